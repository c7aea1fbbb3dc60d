//! tokenstile as a WebAssembly module with a small C ABI, for any host: no wasm-bindgen,
//! no allocator, no generated JavaScript.
//!
//! # The ABI
//!
//! Inputs and outputs pass through one fixed buffer inside the module's memory. The host
//! asks for its address and size once, writes an input there, calls an export with the
//! input's length, and reads the output back from the start of the buffer. Times are Unix
//! seconds as `i64` (a `BigInt` in JavaScript).
//!
//! | export | input in the buffer | on success returns, and leaves in the buffer |
//! |---|---|---|
//! | `io_buffer()` | | the buffer's address |
//! | `io_capacity()` | | the buffer's size in bytes |
//! | `set_key(len)` | the HS256 secret (at least 32 bytes) | 0 |
//! | `sign(len, iat, exp)` | the subject | the token's length; the token |
//! | `verify(len, now)` | a token | the subject's length; the subject |
//! | `session_create(len, now)` | the subject | 43; the new session ID |
//! | `session_load(len, now)` | a session ID | the subject's length; the subject |
//! | `session_destroy(len)` | a session ID | 1 if there was such a session, else 0 |
//! | `error_text()` | | the length of the last error's text; the text |
//!
//! Every export returns a negative [`Code`] on failure. The module keeps the key (as its
//! precomputed HMAC state) and a [`MemoryStore`] of [`SESSIONS`] sessions between calls;
//! it never allocates.
//!
//! # The import
//!
//! `host.fill_random(ptr, len)` must fill `len` bytes at `ptr` with cryptographically
//! secure random bytes (`crypto.getRandomValues` in JavaScript); session IDs are made of
//! them. The module has no randomness of its own: `getrandom` on
//! `wasm32-unknown-unknown` would pull in wasm-bindgen's imports. If the host function
//! throws, the exception passes through the module to the caller of the export without
//! running any of the module's cleanup, so the module stays busy: every later call
//! returns [`Code::Busy`]. Instantiate it again then.
//!
//! # `unsafe`
//!
//! Three uses, each marked: exporting by name (`#[unsafe(no_mangle)]`), calling the
//! imported function, and declaring the module state `Sync` (see [`Global`]).

#![no_std]

#[cfg(not(target_arch = "wasm32"))]
compile_error!("this module is for wasm32-unknown-unknown: run `cargo build` in its directory");

use core::cell::RefCell;
use core::convert::Infallible;
use core::fmt::{self, Write};

use rand_core::{TryCryptoRng, TryRng};
use serde::{Deserialize, Serialize};
use tokenstile::jwt::{self, Hs256Key, Validation};
use tokenstile::session::{SessionError, SessionId, SessionPolicy};
use tokenstile::store::{MemoryStore, StoreErrorKind, block_on};
use tokenstile::{DecodeError, Error, UnixTime, VerifyError};

/// The size of the input/output buffer.
pub const IO_CAPACITY: usize = 2048;

/// How many sessions the module's store holds.
pub const SESSIONS: usize = 64;

/// The longest subject a session keeps, in bytes.
pub const MAX_SUBJECT_LEN: usize = 64;

/// Why an export failed: the negative return values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Code {
    /// An export was called while another was running (from inside the random import),
    /// or after the random import threw.
    Busy = -1,
    /// The input length exceeds the buffer, or the input is not UTF-8.
    Input = -2,
    /// `set_key` has not succeeded yet.
    NoKey = -3,
    /// The secret was refused (shorter than 32 bytes).
    Key = -4,
    /// The token did not fit in the buffer.
    Encode = -5,
    /// The token is malformed or its header is refused.
    Malformed = -6,
    /// The header names an algorithm other than HS256 (`none` included).
    Algorithm = -7,
    /// The MAC does not match.
    Signature = -8,
    /// The token has expired.
    Expired = -9,
    /// Another claim failed validation, or the payload lacks `sub`.
    Claims = -10,
    /// The text is not a well-formed session ID (43 characters of canonical base64url).
    SessionId = -11,
    /// No live session has this ID: never created, destroyed, or timed out.
    NoSession = -12,
    /// The session store is full of live sessions.
    StoreFull = -13,
    /// The subject is longer than [`MAX_SUBJECT_LEN`].
    SubjectTooLong = -14,
    /// The session store failed otherwise.
    Store = -15,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Busy => "the module is busy",
            Self::Input => "input too long or not UTF-8",
            Self::NoKey => "no key set",
            Self::Key => "key refused",
            Self::Encode => "output does not fit",
            Self::Malformed => "malformed token",
            Self::Algorithm => "algorithm refused",
            Self::Signature => "MAC tag mismatch",
            Self::Expired => "token expired",
            Self::Claims => "claims refused",
            Self::SessionId => "malformed session ID",
            Self::NoSession => "no such session",
            Self::StoreFull => "session store is full",
            Self::SubjectTooLong => "subject too long",
            Self::Store => "session store failed",
        })
    }
}

/// Returns the buffer's address.
#[allow(unsafe_code)] // Exported by name.
#[unsafe(no_mangle)]
pub extern "C" fn io_buffer() -> *mut u8 {
    STATE.0.as_ptr().cast::<u8>().wrapping_add(IO_OFFSET)
}

/// Returns the buffer's size.
#[allow(unsafe_code)] // Exported by name.
#[unsafe(no_mangle)]
pub extern "C" fn io_capacity() -> usize {
    IO_CAPACITY
}

/// Sets the HS256 key from the `len`-byte secret in the buffer.
#[allow(unsafe_code)] // Exported by name.
#[unsafe(no_mangle)]
pub extern "C" fn set_key(len: usize) -> i32 {
    with_state(|state| {
        let secret = state.input(len)?;
        let key = Hs256Key::new_from_slice(secret).map_err(|e| state.fail(e.into()))?;
        state.key = Some(key);
        Ok(0)
    })
}

/// Signs `{"sub":…,"iat":…,"exp":…}` for the `len`-byte subject in the buffer, and leaves
/// the token in the buffer.
#[allow(unsafe_code)] // Exported by name.
#[unsafe(no_mangle)]
pub extern "C" fn sign(len: usize, iat: u64, exp: u64) -> i32 {
    with_state(|state| {
        let mut subject = [0u8; 256];
        let subject = copy_str(state.input(len)?, &mut subject).ok_or(Code::Input)?;
        let claims = SignedClaims {
            sub: subject,
            iat,
            exp,
        };
        let State { io, key, .. } = state;
        let key = key.as_ref().ok_or(Code::NoKey)?;
        match jwt::sign(key, &claims, &mut io.0) {
            Ok(token) => Ok(token.len()),
            Err(e) => Err(state.fail(e.into())),
        }
    })
}

/// Verifies the `len`-byte token in the buffer at `now` (exp required) and leaves its
/// subject in the buffer.
#[allow(unsafe_code)] // Exported by name.
#[unsafe(no_mangle)]
pub extern "C" fn verify(len: usize, now: u64) -> i32 {
    with_state(|state| {
        let mut scratch = [0u8; IO_CAPACITY];
        let token = core::str::from_utf8(state.input(len)?).map_err(|_| Code::Input)?;
        let key = state.key.as_ref().ok_or(Code::NoKey)?;
        let policy = Validation::new();
        let result = jwt::verify::<VerifiedClaims, _>(
            key,
            token,
            &policy,
            UnixTime::from_secs(now),
            &mut scratch,
        );
        match result {
            Ok(verified) => state.output(verified.claims.sub.as_bytes()),
            Err(e) => Err(state.fail(e)),
        }
    })
}

/// Starts a session for the `len`-byte subject in the buffer, and leaves its new ID in the
/// buffer. The ID's 32 bytes come from the host's `fill_random`.
#[allow(unsafe_code)] // Exported by name.
#[unsafe(no_mangle)]
pub extern "C" fn session_create(len: usize, now: u64) -> i32 {
    with_state(|state| {
        let subject = Subject::new(state.input(len)?)?;
        let mut name = [0u8; MAX_SUBJECT_LEN];
        let name = copy_str(subject.as_bytes(), &mut name).ok_or(Code::Input)?;
        let id = block_on(SESSION_POLICY.create(
            &mut state.sessions,
            &mut HostRng,
            name,
            subject,
            UnixTime::from_secs(now),
        ))
        .map_err(session_code)?;
        let mut encoded = [0u8; SessionId::ENCODED_LEN];
        state.output(id.encode(&mut encoded).as_bytes())
    })
}

/// Validates the session whose `len`-byte ID is in the buffer at `now`, recording the
/// activity, and leaves its subject in the buffer.
#[allow(unsafe_code)] // Exported by name.
#[unsafe(no_mangle)]
pub extern "C" fn session_load(len: usize, now: u64) -> i32 {
    with_state(|state| {
        let id = state.session_id(len)?;
        let record =
            block_on(SESSION_POLICY.load(&mut state.sessions, &id, UnixTime::from_secs(now)))
                .map_err(session_code)?;
        let subject = *record.data();
        state.output(subject.as_bytes())
    })
}

/// Ends the session whose `len`-byte ID is in the buffer.
#[allow(unsafe_code)] // Exported by name.
#[unsafe(no_mangle)]
pub extern "C" fn session_destroy(len: usize) -> i32 {
    with_state(|state| {
        let id = state.session_id(len)?;
        let existed =
            block_on(SESSION_POLICY.destroy(&mut state.sessions, &id)).map_err(session_code)?;
        Ok(usize::from(existed))
    })
}

/// Writes the text of the most recent error into the buffer.
#[allow(unsafe_code)] // Exported by name.
#[unsafe(no_mangle)]
pub extern "C" fn error_text() -> i32 {
    let Ok(mut state) = STATE.0.try_borrow_mut() else {
        return Code::Busy as i32;
    };
    let State { io, last, .. } = &mut *state;
    let mut writer = SliceWriter {
        buf: &mut io.0,
        len: 0,
    };
    let written = match *last {
        Some((_, Some(e))) => write!(writer, "{e}"),
        Some((code, None)) => write!(writer, "{code}"),
        None => Ok(()),
    };
    match written {
        Ok(()) => i32::try_from(writer.len).unwrap_or(Code::Encode as i32),
        Err(_) => Code::Encode as i32,
    }
}

/// Halts the module: every path above returns an error code instead, so this is only
/// reached on a bug. The host sees a trap.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The claims `sign` writes.
#[derive(Serialize)]
struct SignedClaims<'a> {
    sub: &'a str,
    iat: u64,
    exp: u64,
}

/// The claims `verify` reads beyond the registered ones it validates.
#[derive(Deserialize)]
struct VerifiedClaims<'a> {
    sub: &'a str,
}

/// A session's data: its subject, which the store otherwise keeps only as a hash.
#[derive(Clone, Copy)]
struct Subject {
    len: u8,
    bytes: [u8; MAX_SUBJECT_LEN],
}

impl Subject {
    fn new(name: &[u8]) -> Result<Self, Code> {
        let len = u8::try_from(name.len()).map_err(|_| Code::SubjectTooLong)?;
        let mut bytes = [0u8; MAX_SUBJECT_LEN];
        bytes
            .get_mut(..name.len())
            .ok_or(Code::SubjectTooLong)?
            .copy_from_slice(name);
        Ok(Self { len, bytes })
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// Randomness from the host: the imported `fill_random`.
struct HostRng;

impl TryRng for HostRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut bytes = [0u8; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut bytes = [0u8; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        host_fill_random(dst);
        Ok(())
    }
}

/// The host promises cryptographically secure bytes (see the module docs).
impl TryCryptoRng for HostRng {}

#[link(wasm_import_module = "host")]
#[allow(unsafe_code)] // Declares the host's function.
unsafe extern "C" {
    /// Fills `len` bytes at `ptr` with cryptographically secure random bytes.
    fn fill_random(ptr: *mut u8, len: usize);
}

/// Fills `dst` from the host.
fn host_fill_random(dst: &mut [u8]) {
    // SAFETY: `dst` is a live, exclusive slice; the host writes exactly `dst.len()` bytes
    // starting at its address and keeps no reference to it.
    #[allow(unsafe_code)]
    unsafe {
        fill_random(dst.as_mut_ptr(), dst.len());
    }
}

/// Everything the module keeps between calls.
struct State {
    io: Io,
    key: Option<Hs256Key>,
    /// Sessions, and room for two revocations (the module revokes no JWTs).
    sessions: MemoryStore<Subject, SESSIONS, 2>,
    /// The tokenstile error behind the failure of the running call, if any.
    pending: Option<Error>,
    /// The most recent failure, for `error_text`.
    last: Option<(Code, Option<Error>)>,
}

impl State {
    const fn new() -> Self {
        Self {
            io: Io([0; IO_CAPACITY]),
            key: None,
            sessions: MemoryStore::new(),
            pending: None,
            last: None,
        }
    }

    /// The first `len` bytes of the buffer.
    fn input(&self, len: usize) -> Result<&[u8], Code> {
        self.io.0.get(..len).ok_or(Code::Input)
    }

    /// The session ID in the first `len` bytes of the buffer.
    fn session_id(&self, len: usize) -> Result<SessionId, Code> {
        let text = core::str::from_utf8(self.input(len)?).map_err(|_| Code::SessionId)?;
        SessionId::parse(text).map_err(|_| Code::SessionId)
    }

    /// Copies `bytes` to the start of the buffer and returns their length.
    fn output(&mut self, bytes: &[u8]) -> Result<usize, Code> {
        let dst = self.io.0.get_mut(..bytes.len()).ok_or(Code::Encode)?;
        dst.copy_from_slice(bytes);
        Ok(bytes.len())
    }

    /// Records `error` for `error_text` and classifies it.
    fn fail(&mut self, error: Error) -> Code {
        self.pending = Some(error);
        classify(error)
    }
}

/// The buffer, aligned so that hosts may view it as wider integers too.
#[repr(C, align(8))]
struct Io([u8; IO_CAPACITY]);

/// The module state in a `static`.
///
/// `RefCell` is not `Sync`, because two threads could borrow it at once. This module has
/// one thread: `wasm32-unknown-unknown` without the `atomics` target feature cannot share
/// memory between threads, and the build refuses that feature below. Re-entry from the
/// random import finds the state borrowed and gets [`Code::Busy`].
struct Global(RefCell<State>);

// SAFETY: see the type's docs; there is exactly one thread.
#[allow(unsafe_code)]
unsafe impl Sync for Global {}

#[cfg(target_feature = "atomics")]
compile_error!("the module state assumes a single thread; build without the atomics feature");

static STATE: Global = Global(RefCell::new(State::new()));

/// Where the buffer lies within [`State`].
const IO_OFFSET: usize = core::mem::offset_of!(State, io);

/// Runs `f` on the state and turns its result into the export's return value.
fn with_state(f: impl FnOnce(&mut State) -> Result<usize, Code>) -> i32 {
    let Ok(mut state) = STATE.0.try_borrow_mut() else {
        return Code::Busy as i32;
    };
    state.pending = None;
    let result = f(&mut state);
    let pending = state.pending.take();
    match result.and_then(|len| i32::try_from(len).map_err(|_| Code::Encode)) {
        Ok(len) => len,
        Err(code) => {
            state.last = Some((code, pending));
            code as i32
        }
    }
}

fn classify(error: Error) -> Code {
    match error {
        Error::Decode(DecodeError::Algorithm) => Code::Algorithm,
        Error::Decode(_) => Code::Malformed,
        Error::Verify(VerifyError::Signature) => Code::Signature,
        Error::Verify(VerifyError::Expired) => Code::Expired,
        Error::Verify(_) => Code::Claims,
        Error::Key(_) => Code::Key,
        _ => Code::Encode,
    }
}

fn session_code(error: SessionError<StoreErrorKind>) -> Code {
    match error {
        SessionError::Expired | SessionError::NotFound => Code::NoSession,
        SessionError::Store(StoreErrorKind::Capacity) => Code::StoreFull,
        _ => Code::Store,
    }
}

/// The sessions' timeouts: the defaults, 30 minutes idle and 8 hours in all.
const SESSION_POLICY: SessionPolicy = SessionPolicy::new();

/// Copies `src` into `dst` and returns it as a string, if it fits and is UTF-8.
fn copy_str<'d>(src: &[u8], dst: &'d mut [u8]) -> Option<&'d str> {
    let dst = dst.get_mut(..src.len())?;
    dst.copy_from_slice(src);
    core::str::from_utf8(dst).ok()
}

/// `fmt::Write` into a byte slice, failing when it is full.
struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
