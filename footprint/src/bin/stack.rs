//! Worst-case stack of each operation, measured by stack painting under QEMU, including
//! hostile JSON: thousands of nesting levels, an 8 KiB string, and long headers, which are
//! read before the MAC is checked; and the instructions each takes.
//!
//! Each operation runs in a freshly painted stack; afterwards the lowest overwritten word
//! shows how deep it went. The buffers live in `main`'s frame, above the painted area, so
//! the figures are what the library itself uses.
//!
//! Instructions are counted with SysTick on the core clock. Run with QEMU's `-icount
//! shift=0`, each instruction advances the emulated clock by 1 ns, and the clock of
//! `mps2-an386` runs at 25 MHz: one tick is 40 instructions, so the figures are exact to
//! 40 and repeat from run to run. (They are instructions, not the cycles of a real core,
//! where loads, stores and taken branches take more than one.)
#![no_std]
#![no_main]

use core::hint::black_box;

use base64ct::{Base64UrlUnpadded, Encoding};
use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokenstile::jwt::{self, Hs256Key, Validation};
use tokenstile::session::SessionPolicy;
use tokenstile::store::{MemoryStore, block_on};
use tokenstile::{Error, JsonError, VerifyError};
use tokenstile_footprint::{AUDIENCES, Claims, ISSUER, NOW, SECRET, StandInRng, TOKEN, claims};

const PATTERN: u32 = 0xDEAD_C0DE;
/// Left unpainted just below the measuring function's own frame.
const MARGIN: usize = 64;

unsafe extern "C" {
    /// End of `.bss` (start of the unused RAM), from cortex-m-rt's `link.x`.
    static __sheap: u32;
}

#[entry]
fn main() -> ! {
    let ok = run();
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

fn run() -> bool {
    let Some(mut core) = cortex_m::Peripherals::take() else {
        return false;
    };
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(TICKS_MASK);
    core.SYST.clear_current();
    core.SYST.enable_counter();
    let key = Hs256Key::new_from_slice(SECRET).unwrap_or_else(|_| panic!());
    let policy = Validation::new()
        .with_issuer(ISSUER)
        .with_audiences(AUDIENCES);
    let mut buf = [0u8; 512];
    let mut scratch = [0u8; 512];
    let mut store: MemoryStore<u32, 16, 16> = MemoryStore::new();
    let mut rng = StandInRng(0x853c_49e6_748f_ea9b);
    let sessions = SessionPolicy::new();
    let mut ok = true;

    hprintln!("stack used, bytes, and instructions (Cortex-M4F, opt-level z, LTO):");
    ok &= report("verify (251-byte token)", || {
        jwt::verify::<Claims<'_>, _>(&key, black_box(TOKEN), &policy, NOW, &mut scratch).is_ok()
    });
    ok &= report("sign", || {
        jwt::sign(&key, black_box(&claims()), &mut buf).is_ok()
    });
    ok &= report("verify + revocation check", || {
        block_on(jwt::verify_not_revoked::<Claims<'_>, _, _>(
            &key,
            black_box(TOKEN),
            &policy,
            &mut store,
            NOW,
            &mut scratch,
        ))
        .is_ok()
    });
    let mut id = None;
    ok &= report("session create (MemoryStore<u32, 16, 16>)", || {
        id = block_on(sessions.create(&mut store, &mut rng, "user-42", 7, NOW)).ok();
        id.is_some()
    });
    ok &= report("session load", || {
        id.as_ref()
            .is_some_and(|id| block_on(sessions.load(&mut store, id, NOW)).is_ok())
    });

    // Hostile input, with a valid MAC so that the payload is parsed.
    let mut json = [0u8; 9 * 1024];
    let mut token = [0u8; 13 * 1024];
    let mut big_scratch = [0u8; 13 * 1024];
    let lax = Validation::new().with_max_token_len(token.len());
    for (label, depth) in [
        ("payload nested 1000 deep", 1000),
        ("payload nested 4000 deep", 4000),
    ] {
        let payload = nested(&mut json, depth);
        let t = forge(&mut token, br#"{"alg":"HS256"}"#, payload);
        ok &= report(label, || {
            jwt::verify::<serde::de::IgnoredAny, _>(&key, t, &lax, NOW, &mut big_scratch)
                == Err(Error::Verify(VerifyError::Payload(JsonError::Depth)))
        });
    }
    let payload = long_string(&mut json, 8 * 1024);
    let t = forge(&mut token, br#"{"alg":"HS256"}"#, payload);
    ok &= report("payload with an 8 KiB string", || {
        jwt::verify::<serde::de::IgnoredAny, _>(&key, t, &lax, NOW, &mut big_scratch).is_ok()
    });
    // The same after a space: the canonicalizer moves the whole string back by a byte.
    let payload = long_string_after_space(&mut json, 8 * 1024);
    let t = forge(&mut token, br#"{"alg":"HS256"}"#, payload);
    ok &= report("payload with a space and an 8 KiB string", || {
        jwt::verify::<serde::de::IgnoredAny, _>(&key, t, &lax, NOW, &mut big_scratch).is_ok()
    });
    // Headers are read before the MAC is checked, so anyone can send these: near the longest
    // the default policy's 8 KiB token allows, each after a space that the canonicalizer
    // takes out, moving all that follows back by a byte. Neither has an `alg`.
    let policy = Validation::new();
    let headers: [(&str, fn(&mut [u8], usize) -> &[u8], usize); 2] = [
        (
            "header with a space and a 5,900-byte string",
            long_string_after_space,
            5900,
        ),
        (
            "header with a space and 2,900 numbers",
            numbers_after_space,
            2900,
        ),
    ];
    for (label, write, len) in headers {
        let header = write(&mut json, len);
        let t = forge(&mut token, header, br#"{"exp":4102444800}"#);
        ok &= report(label, || {
            t.len() <= policy.max_token_len
                && jwt::verify::<serde::de::IgnoredAny, _>(&key, t, &policy, NOW, &mut big_scratch)
                    == Err(Error::Decode(tokenstile::DecodeError::Algorithm))
        });
    }
    let header = nested(&mut json, 4000);
    let t = forge(&mut token, header, br#"{"exp":4102444800}"#);
    ok &= report("header nested 4000 deep", || {
        matches!(
            jwt::verify::<serde::de::IgnoredAny, _>(&key, t, &lax, NOW, &mut big_scratch),
            Err(Error::Decode(tokenstile::DecodeError::Header(
                JsonError::Depth
            )))
        )
    });
    hprintln!(
        "{}",
        if ok {
            "all operations gave the expected result"
        } else {
            "FAILED"
        }
    );
    ok
}

/// Runs `f` on a painted stack, prints how deep it went and how many instructions it took,
/// and fails if `f` gave the wrong result or used more than [`BUDGET`].
#[inline(never)]
fn report(label: &str, f: impl FnOnce() -> bool) -> bool {
    let (result, used, ticks) = measure(f);
    let note = match (result, used <= BUDGET) {
        (true, true) => "",
        (false, _) => "  (unexpected result)",
        (true, false) => "  (over budget)",
    };
    let instructions = ticks * INSTRUCTIONS_PER_TICK;
    hprintln!("  {:<40} {:>6} {:>10}{}", label, used, instructions, note);
    result && used <= BUDGET
}

/// SysTick counts down from this, its largest reload value (24 bits): at 40 instructions
/// a tick, 670 million instructions before it wraps, far more than any operation takes.
const TICKS_MASK: u32 = 0x00FF_FFFF;

/// Instructions per SysTick tick under `-icount shift=0` (1 ns each) on a 25 MHz clock.
const INSTRUCTIONS_PER_TICK: u32 = 40;

/// The most stack any operation may use: everything measured is well under it, and
/// recursion on nesting depth would blow through it at once.
const BUDGET: usize = 2048;

#[inline(never)]
fn measure(f: impl FnOnce() -> bool) -> (bool, usize, u32) {
    let sp = cortex_m::register::msp::read() as usize;
    // Only the address of the linker symbol is taken.
    let bottom = core::ptr::addr_of!(__sheap) as usize;
    let limit = sp - MARGIN;
    let mut addr = bottom;
    while addr < limit {
        // SAFETY: [bottom, limit) is unused RAM below this frame: between the end of .bss
        // and the current stack pointer.
        unsafe { (addr as *mut u32).write_volatile(PATTERN) };
        addr += 4;
    }
    let start = SYST::get_current();
    let result = black_box(f());
    let ticks = start.wrapping_sub(SYST::get_current()) & TICKS_MASK;
    let mut lowest = limit;
    let mut addr = bottom;
    while addr < limit {
        // SAFETY: as above.
        if unsafe { (addr as *const u32).read_volatile() } != PATTERN {
            lowest = addr;
            break;
        }
        addr += 4;
    }
    (result, sp - lowest, ticks)
}

/// `{"exp":4102444800,"x":[[[...0...]]]}` nested `depth` deep, into `out`.
fn nested(out: &mut [u8], depth: usize) -> &[u8] {
    let head = br#"{"exp":4102444800,"x":"#;
    let mut n = 0;
    for &b in head.iter().chain(core::iter::repeat_n(&b'[', depth)) {
        out[n] = b;
        n += 1;
    }
    out[n] = b'0';
    n += 1;
    for &b in core::iter::repeat_n(&b']', depth).chain(b"}") {
        out[n] = b;
        n += 1;
    }
    &out[..n]
}

/// `{"exp":4102444800,"x":"aaaa..."}` with `len` letters, into `out`.
fn long_string(out: &mut [u8], len: usize) -> &[u8] {
    let mut n = 0;
    for &b in
        br#"{"exp":4102444800,"x":""#.iter().chain(core::iter::repeat_n(&b'a', len)).chain(br#""}"#)
    {
        out[n] = b;
        n += 1;
    }
    &out[..n]
}

/// `{ "exp":4102444800,"x":"aaaa..."}`, a space after the brace and then `len` letters, into
/// `out`.
fn long_string_after_space(out: &mut [u8], len: usize) -> &[u8] {
    out[0] = b'{';
    let n = long_string(&mut out[1..], len).len();
    out[1] = b' ';
    &out[..n + 1]
}

/// `{ "x":[1,1,...,1]}`, a space after the brace and then an array of `count` ones, into
/// `out`.
fn numbers_after_space(out: &mut [u8], count: usize) -> &[u8] {
    let mut n = 0;
    let ones =
        core::iter::repeat_n(b"1,".as_slice(), count.saturating_sub(1)).chain([b"1".as_slice()]);
    for &b in [br#"{ "x":["#.as_slice()]
        .into_iter()
        .chain(ones)
        .chain([b"]}".as_slice()])
        .flatten()
    {
        out[n] = b;
        n += 1;
    }
    &out[..n]
}

/// A token with this header and payload and a valid MAC, into `out`.
fn forge<'o>(out: &'o mut [u8], header: &[u8], payload: &[u8]) -> &'o str {
    let h = Base64UrlUnpadded::encode(header, out)
        .unwrap_or_else(|_| panic!())
        .len();
    out[h] = b'.';
    let p = Base64UrlUnpadded::encode(payload, &mut out[h + 1..])
        .unwrap_or_else(|_| panic!())
        .len();
    let input_len = h + 1 + p;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap_or_else(|_| panic!());
    mac.update(&out[..input_len]);
    let tag = mac.finalize().into_bytes();
    out[input_len] = b'.';
    let s = Base64UrlUnpadded::encode(&tag, &mut out[input_len + 1..])
        .unwrap_or_else(|_| panic!())
        .len();
    core::str::from_utf8(&out[..input_len + 1 + s]).unwrap_or_else(|_| panic!())
}
