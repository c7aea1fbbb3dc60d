//! tokenstile on a microcontroller: no `std`, no `main`, no allocator.
//!
//! Runs on QEMU's Cortex-M3 board (`lm3s6965evb`) with `cargo run --release` from this
//! directory, and builds for the Cortex-M0 with
//! `cargo build --release --target thumbv6m-none-eabi`. It
//!
//! 1. verifies a token that the host signed (embedded from `shared.rs`), and sees a
//!    tampered copy and the same token at its expiry refused;
//! 2. signs a token of its own and verifies it back;
//! 3. creates, validates, saves and destroys sessions in the fixed-capacity `MemoryStore`,
//!    sees a stale save and a session beyond the capacity refused (no live session is
//!    dropped), and revokes the host token through the same store while it is full of
//!    sessions;
//! 4. keeps a short access token alive with a refresh token, and catches the replaced
//!    refresh token when it is presented again (the family ends, its access token too);
//!
//! printing each step over semihosting, and ends the emulation with a semihosting exit
//! code: 0 when every check passed, 1 otherwise (a failed check, a panic or a HardFault).

#![no_std]
#![no_main]

mod shared;

use core::fmt;

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hprintln;
// A panic prints its message and exits with failure (feature "exit").
use panic_semihosting as _;
use rand_core::{TryCryptoRng, TryRng};
use serde::{Deserialize, Serialize};
use tokenstile::jwt::{self, Hs256Key, RevocationError, Validation};
use tokenstile::refresh::{Family, RefreshError, RefreshPolicy};
use tokenstile::session::{SessionError, SessionId, SessionPolicy};
use tokenstile::store::{MemoryStore, StoreErrorKind, block_on};
use tokenstile::{EncodeError, Error, KeyError, UnixTime, VerifyError};

use shared::{
    AUDIENCE, DEVICE_ID, HOST_TOKEN, HOST_TOKEN_EXP, HOST_TOKEN_IAT, ISSUER, SCOPE, SHARED_SECRET,
};

#[entry]
fn main() -> ! {
    if cfg!(feature = "hardfault-demo") {
        hprintln!("hardfault-demo: executing an undefined instruction");
        cortex_m::asm::udf();
    }
    let status = match run() {
        Ok(()) => {
            hprintln!("all checks passed");
            EXIT_SUCCESS
        }
        Err(failure) => {
            hprintln!("FAILED: {}", failure);
            EXIT_FAILURE
        }
    };
    debug::exit(status);
    halt()
}

/// Ends the run with failure on any fault (bus, memory, usage faults escalate here, as
/// they are not enabled separately). Without this handler cortex-m-rt's default spins
/// forever, and a CI run would only end at its timeout.
#[exception]
#[allow(unsafe_code)] // cortex-m-rt requires the HardFault handler to be an `unsafe fn`.
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("HardFault at pc = {:#010x}", frame.pc());
    debug::exit(EXIT_FAILURE);
    halt()
}

fn run() -> Result<(), Failure> {
    let now = host_time().ok_or(Failure::new("read the clock"))?;
    hprintln!(
        "tokenstile firmware example, now = {} (Unix seconds)",
        now.as_secs()
    );
    let key = Hs256Key::new_from_slice(SHARED_SECRET).map_err(|e| Failure::new("key").with(e))?;

    let mut rng = StandInTrng::new();

    verify_host_token(&key, now)?;
    sign_on_device(&key, &mut rng, now)?;
    sessions(&key, &mut rng, now)?;
    refresh_tokens(&key, &mut rng, now)?;
    Ok(())
}

/// The token the host signed: accepted now, refused when tampered with or expired.
fn verify_host_token(key: &Hs256Key, now: UnixTime) -> Result<(), Failure> {
    hprintln!("[1] verify a token signed on the host");
    let audiences = [AUDIENCE];
    let policy = Validation::new()
        .with_issuer(ISSUER)
        .with_audiences(&audiences)
        .with_subject(DEVICE_ID);
    let mut scratch = [0u8; 512];

    let verified = jwt::verify::<HostClaims, _>(key, HOST_TOKEN, &policy, now, &mut scratch)
        .map_err(|e| Failure::new("verify the host token").with(e))?;
    let issued = verified.registered.iat.map(UnixTime::as_secs);
    if verified.claims.scope != SCOPE || issued != Some(HOST_TOKEN_IAT) {
        return Err(Failure::new("host token claims"));
    }
    hprintln!(
        "    accepted: sub={} scope={} iat={} exp={}",
        verified.claims.sub,
        verified.claims.scope,
        HOST_TOKEN_IAT,
        HOST_TOKEN_EXP
    );

    // Change one character of the payload: the MAC no longer matches.
    let mut copy = [0u8; HOST_TOKEN.len()];
    copy.copy_from_slice(HOST_TOKEN.as_bytes());
    let at = HOST_TOKEN.find('.').map_or(0, |dot| dot.saturating_add(5));
    if let Some(c) = copy.get_mut(at) {
        *c = if *c == b'A' { b'B' } else { b'A' };
    }
    let tampered = core::str::from_utf8(&copy).map_err(|_| Failure::new("tampered copy"))?;
    expect_refused(
        "tampered copy",
        jwt::verify::<HostClaims, _>(key, tampered, &policy, now, &mut scratch).map(|_| ()),
        VerifyError::Signature,
    )?;

    let at_exp = UnixTime::from_secs(HOST_TOKEN_EXP);
    expect_refused(
        "same token at its exp",
        jwt::verify::<HostClaims, _>(key, HOST_TOKEN, &policy, at_exp, &mut scratch).map(|_| ()),
        VerifyError::Expired,
    )
}

/// A token signed here, for the host to check: a short-lived telemetry report.
fn sign_on_device(key: &Hs256Key, rng: &mut StandInTrng, now: UnixTime) -> Result<(), Failure> {
    hprintln!("[2] sign a token on the device");
    let mut jti_buf = [0u8; 16];
    let jti = hex_u64(
        rng.try_next_u64().map_err(|_| Failure::new("rng"))?,
        &mut jti_buf,
    );
    let report = Report {
        iss: DEVICE_ID,
        aud: ISSUER,
        jti,
        iat: now.as_secs(),
        exp: now.saturating_add(300).as_secs(),
        temp_mc: 21_375,
    };
    let mut out = [0u8; 384];
    let token = jwt::sign(key, &report, &mut out).map_err(|e| Failure::new("sign").with(e))?;
    hprintln!("    signed: {}", token);

    let audiences = [ISSUER];
    let policy = Validation::new()
        .with_issuer(DEVICE_ID)
        .with_audiences(&audiences);
    let mut scratch = [0u8; 384];
    let back = jwt::verify::<Report, _>(key, token, &policy, now, &mut scratch)
        .map_err(|e| Failure::new("verify the device token").with(e))?;
    if back.claims != report {
        return Err(Failure::new("device token claims"));
    }
    hprintln!(
        "    verified back: jti={} temp_mc={}",
        back.claims.jti,
        back.claims.temp_mc
    );
    Ok(())
}

/// Sessions for a maintenance operator, in a store of eight sessions and eight
/// revocations.
fn sessions(key: &Hs256Key, rng: &mut StandInTrng, now: UnixTime) -> Result<(), Failure> {
    hprintln!(
        "[3] sessions in a MemoryStore of {} sessions and {} revocations",
        SESSIONS,
        REVOCATIONS
    );
    let mut store: MemoryStore<Operator, SESSIONS, REVOCATIONS> = MemoryStore::new();
    let policy = SessionPolicy::new()
        .with_idle_timeout(5 * 60)
        .with_absolute_timeout(60 * 60);
    let operator = Operator { level: 2 };

    // The lifecycle is written as `async fn`s; over an in-memory store they complete at
    // once, and `block_on` returns their result without an executor.
    let id = block_on(policy.create(&mut store, rng, "operator", operator, now))
        .map_err(|e| Failure::new("create a session").with(e))?;
    let mut encoded = [0u8; SessionId::ENCODED_LEN];
    let cookie = id.encode(&mut encoded);
    hprintln!("    created: {} (from the stand-in RNG)", cookie);

    // A later request presents the ID as text.
    let presented = SessionId::parse(cookie).map_err(|_| Failure::new("parse the session ID"))?;
    let soon = now.saturating_add(60);
    let mut record = block_on(policy.load(&mut store, &presented, soon))
        .map_err(|e| Failure::new("validate the session").with(e))?;
    if record.data().level != 2 || !record.belongs_to("operator") {
        return Err(Failure::new("session data"));
    }
    hprintln!(
        "    validated a minute later: level {}",
        record.data().level
    );

    // A versioned save: a second save from the same, now stale, read is refused.
    let mut stale = record.clone();
    record.data_mut().level = 3;
    block_on(policy.save(&mut store, &presented, &mut record, soon))
        .map_err(|e| Failure::new("save the session").with(e))?;
    match block_on(policy.save(&mut store, &presented, &mut stale, soon)) {
        Err(SessionError::Stale) => hprintln!("    saved level 3; a stale save: refused"),
        Err(e) => return Err(Failure::new("stale save").with(e)),
        Ok(()) => return Err(Failure::new("stale save")),
    }

    match block_on(policy.destroy(&mut store, &presented)) {
        Ok(true) => hprintln!("    destroyed"),
        Ok(false) => return Err(Failure::new("destroy: no session")),
        Err(e) => return Err(Failure::new("destroy").with(e)),
    }
    match block_on(policy.load(&mut store, &presented, soon)) {
        Err(SessionError::NotFound) => {
            hprintln!("    the same ID afterwards: refused (no such session)")
        }
        Err(e) => return Err(Failure::new("load after destroy").with(e)),
        Ok(_) => return Err(Failure::new("load after destroy")),
    }

    // Fill the table: the next session is refused, and no live one is dropped for it.
    for _ in 0..SESSIONS {
        block_on(policy.create(&mut store, rng, "operator", operator, now))
            .map_err(|e| Failure::new("fill the store").with(e))?;
    }
    match block_on(policy.create(&mut store, rng, "operator", operator, now)) {
        Err(SessionError::Store(StoreErrorKind::Capacity)) => {
            hprintln!("    a session more than the store holds: refused (store is full)");
        }
        Err(e) => return Err(Failure::new("create in a full store").with(e)),
        Ok(_) => return Err(Failure::new("create in a full store")),
    }

    // Revocations have a table of their own: with every session slot taken, the store
    // still revokes every token of this device issued until now.
    let until = UnixTime::from_secs(HOST_TOKEN_EXP);
    block_on(jwt::revoke_subject(
        &mut store,
        Some(ISSUER),
        DEVICE_ID,
        now,
        until,
        now,
    ))
    .map_err(|e| Failure::new("revoke the host token").with(e))?;
    hprintln!("    with the session table full, a JWT revocation: stored");

    // "Log out everywhere" makes room again.
    let ended = block_on(policy.destroy_subject(&mut store, "operator"))
        .map_err(|e| Failure::new("destroy the subject's sessions").with(e))?;
    if ended != SESSIONS || store.sessions_len() != 0 {
        return Err(Failure::new("destroy the subject's sessions"));
    }
    hprintln!("    log out everywhere: {} sessions ended", ended);

    let audiences = [AUDIENCE];
    let policy = Validation::new()
        .with_issuer(ISSUER)
        .with_audiences(&audiences)
        .with_subject(DEVICE_ID);
    let mut scratch = [0u8; 512];
    let result = block_on(jwt::verify_not_revoked::<HostClaims, _, _>(
        key,
        HOST_TOKEN,
        &policy,
        &mut store,
        now,
        &mut scratch,
    ));
    match result {
        Err(RevocationError::Token(e)) => {
            expect_refused("the host token, revoked", Err(e), VerifyError::Revoked)
        }
        Err(e) => Err(Failure::new("the host token, revoked").with(e)),
        Ok(_) => Err(Failure::new("the host token, revoked")),
    }
}

/// A short-lived access token kept alive by a refresh token, and a stolen refresh token
/// caught on reuse.
fn refresh_tokens(key: &Hs256Key, rng: &mut StandInTrng, now: UnixTime) -> Result<(), Failure> {
    hprintln!("[4] refresh tokens, in a MemoryStore of 4 families");
    let mut store: MemoryStore<Family<Operator>, 4, 4> = MemoryStore::new();
    let policy = RefreshPolicy::new();
    let grant = block_on(policy.issue(&mut store, rng, "operator", Operator { level: 1 }, now))
        .map_err(|e| Failure::new("issue a refresh token").with(e))?;
    let mut buf = [0u8; 512];
    let access = jwt::sign(key, &grant.access.claims(None, "operator"), &mut buf)
        .map_err(|e| Failure::new("sign the access token").with(e))?;
    let mut copy = [0u8; 512];
    let access = copy_str(access, &mut copy).ok_or(Failure::new("copy the access token"))?;

    let later = now.saturating_add(15 * 60);
    let refreshed = block_on(policy.refresh(&mut store, rng, &grant.refresh, later))
        .map_err(|e| Failure::new("refresh").with(e))?;
    hprintln!(
        "    refreshed 15 minutes later: generation 2, level {}",
        refreshed.data.level
    );

    // The first refresh token again, after the grace period: it was stolen.
    let replay = later.saturating_add(60);
    match block_on(policy.refresh(&mut store, rng, &grant.refresh, replay)) {
        Err(RefreshError::Reused { .. }) => {
            hprintln!("    the replaced refresh token again: reused, family ended")
        }
        Err(e) => return Err(Failure::new("reuse").with(e)),
        Ok(_) => return Err(Failure::new("reuse")),
    }
    let mut scratch = [0u8; 512];
    let result = block_on(jwt::verify_not_revoked::<serde::de::IgnoredAny, _, _>(
        key,
        access,
        &Validation::new(),
        &mut store,
        now,
        &mut scratch,
    ));
    match result {
        Err(RevocationError::Token(e)) => expect_refused(
            "an access token of the ended family",
            Err(e),
            VerifyError::Revoked,
        ),
        Err(e) => Err(Failure::new("access token of the ended family").with(e)),
        Ok(_) => Err(Failure::new("access token of the ended family")),
    }
}

/// Copies `s` into `out` and returns the copy, or `None` if it doesn't fit.
fn copy_str<'o>(s: &str, out: &'o mut [u8]) -> Option<&'o str> {
    let out = out.get_mut(..s.len())?;
    out.copy_from_slice(s.as_bytes());
    core::str::from_utf8(out).ok()
}

fn expect_refused(
    what: &'static str,
    result: Result<(), Error>,
    expected: VerifyError,
) -> Result<(), Failure> {
    match result {
        Err(Error::Verify(e)) if e == expected => {
            hprintln!("    {}: refused ({})", what, e);
            Ok(())
        }
        Err(e) => Err(Failure::new(what).with(e)),
        Ok(()) => Err(Failure::new(what)),
    }
}

/// The claims of the host token.
#[derive(Deserialize)]
struct HostClaims<'a> {
    sub: &'a str,
    scope: &'a str,
}

/// The claims of the token the device signs.
#[derive(Serialize, Deserialize, PartialEq)]
struct Report<'a> {
    iss: &'a str,
    aud: &'a str,
    jti: &'a str,
    iat: u64,
    exp: u64,
    /// Temperature in millidegrees Celsius.
    temp_mc: i32,
}

/// What an operator's session holds.
#[derive(Clone, Copy)]
struct Operator {
    level: u8,
}

/// NOT A RANDOM NUMBER GENERATOR: a stand-in for the board's true RNG.
///
/// The LM3S6965 that QEMU emulates has no hardware RNG, so this example uses SplitMix64
/// from a fixed seed, and every run produces the same "random" values. Its
/// `TryCryptoRng` impl is a promise it does not keep. On a real board, implement
/// `TryRng + TryCryptoRng` over the TRNG peripheral (STM32 `RNG`, nRF `RNG`, the
/// RP2040's ROSC, an ATECC or SE050 secure element) and return its error when a health
/// test fails: tokenstile passes that error on instead of issuing a weak session ID.
#[derive(Debug)]
struct StandInTrng {
    state: u64,
}

impl StandInTrng {
    const fn new() -> Self {
        Self {
            state: 0x853c_49e6_748f_ea9b,
        }
    }
}

impl TryRng for StandInTrng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let [low, ..] = split_u64(self.try_next_u64()?);
        Ok(low)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        // SplitMix64 (Steele, Lea, Flood 2014).
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            for (d, s) in chunk.iter_mut().zip(bytes) {
                *d = s;
            }
        }
        Ok(())
    }
}

/// See the type's docs: a stand-in only.
impl TryCryptoRng for StandInTrng {}

/// The low and high halves of `v`.
fn split_u64(v: u64) -> [u32; 2] {
    let [a, b, c, d, e, f, g, h] = v.to_le_bytes();
    [
        u32::from_le_bytes([a, b, c, d]),
        u32::from_le_bytes([e, f, g, h]),
    ]
}

/// `v` as 16 lowercase hex digits.
fn hex_u64(v: u64, out: &mut [u8; 16]) -> &str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (slot, byte) in out.chunks_exact_mut(2).zip(v.to_be_bytes()) {
        for (d, nibble) in slot.iter_mut().zip([byte >> 4, byte & 0x0f]) {
            *d = DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
        }
    }
    core::str::from_utf8(out).unwrap_or_default()
}

/// The current time from the host's clock, over semihosting (`SYS_TIME`).
///
/// A real board reads its RTC or keeps time from the network; tokenstile only needs a
/// `UnixTime` for each call.
fn host_time() -> Option<UnixTime> {
    // SAFETY: SYS_TIME takes no parameter block and only returns the host's time in r0;
    // QEMU answers it because semihosting is enabled in the runner.
    #[allow(unsafe_code)]
    let secs = unsafe { cortex_m_semihosting::syscall1(cortex_m_semihosting::nr::TIME, 0) };
    // The call returns -1 (all ones) on failure; 0 would be a host clock at the epoch.
    match u32::try_from(secs) {
        Ok(0 | u32::MAX) | Err(_) => None,
        Ok(secs) => Some(UnixTime::from_secs(u64::from(secs))),
    }
}

/// How many sessions the store holds, and how many revocations and watermarks together.
const SESSIONS: usize = 8;
const REVOCATIONS: usize = 8;

fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

/// A check that did not go as expected, and the error that came back, if any.
#[derive(Debug)]
struct Failure {
    step: &'static str,
    cause: Option<Cause>,
}

/// The errors a step can meet.
#[derive(Debug)]
enum Cause {
    Token(Error),
    Session(SessionError<StoreErrorKind>),
    Revocation(RevocationError<StoreErrorKind>),
    Refresh(RefreshError<StoreErrorKind>),
}

impl Failure {
    const fn new(step: &'static str) -> Self {
        Self { step, cause: None }
    }

    fn with(self, cause: impl Into<Cause>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..self
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(Cause::Token(e)) => write!(f, "{}: {}", self.step, e),
            Some(Cause::Session(SessionError::Store(kind))) => {
                write!(f, "{}: {}", self.step, kind)
            }
            Some(Cause::Session(e)) => write!(f, "{}: {}", self.step, e),
            Some(Cause::Revocation(RevocationError::Store(kind))) => {
                write!(f, "{}: {}", self.step, kind)
            }
            Some(Cause::Revocation(e)) => write!(f, "{}: {}", self.step, e),
            Some(Cause::Refresh(RefreshError::Store(kind))) => {
                write!(f, "{}: {}", self.step, kind)
            }
            Some(Cause::Refresh(e)) => write!(f, "{}: {}", self.step, e),
            None => write!(f, "{}: unexpected result", self.step),
        }
    }
}

impl From<RefreshError<StoreErrorKind>> for Cause {
    fn from(e: RefreshError<StoreErrorKind>) -> Self {
        Self::Refresh(e)
    }
}

impl From<Error> for Cause {
    fn from(e: Error) -> Self {
        Self::Token(e)
    }
}

impl From<KeyError> for Cause {
    fn from(e: KeyError) -> Self {
        Self::Token(e.into())
    }
}

impl From<EncodeError> for Cause {
    fn from(e: EncodeError) -> Self {
        Self::Token(e.into())
    }
}

impl From<SessionError<StoreErrorKind>> for Cause {
    fn from(e: SessionError<StoreErrorKind>) -> Self {
        Self::Session(e)
    }
}

impl From<RevocationError<StoreErrorKind>> for Cause {
    fn from(e: RevocationError<StoreErrorKind>) -> Self {
        Self::Revocation(e)
    }
}
