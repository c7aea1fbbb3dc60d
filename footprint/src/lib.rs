//! What the footprint firmwares share: the key, a token, the claims, a stand-in RNG and the
//! panic handler.
#![no_std]

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use serde::{Deserialize, Serialize};
use tokenstile::UnixTime;

/// The HMAC secret (a demo value; a device keeps its own in protected storage).
pub const SECRET: &[u8; 33] = b"footprint demo secret, 32+ bytes!";

/// A 251-byte token over [`Claims`] signed with [`SECRET`] (`exp` in the year 2100).
pub const TOKEN: &str = concat!(
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
    "eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsInN1YiI6InVzZXItNDIiLCJhdWQiOiJhcGkiLCJpYXQiOjE3",
    "NjcyMjU2MDAsImV4cCI6NDEwMjQ0NDgwMCwianRpIjoiYzlmMGY4OTVmYiIsInJvbGUiOiJlZGl0b3IifQ",
    ".PkDUG-NQGQc6cg3QMpw2LQdIvVvTntJr_lFl5q1MmoU"
);

/// "Now" on the device: 2026-01-01T00:00:00Z (a real board reads its RTC).
pub const NOW: UnixTime = UnixTime::from_secs(1_767_225_600);

/// Who issues tokens.
pub const ISSUER: &str = "https://auth.example";
/// Who tokens are for.
pub const AUDIENCES: &[&str] = &["api"];

/// The claims: the registered ones plus one of the application's.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims<'a> {
    /// Issuer.
    pub iss: &'a str,
    /// Subject.
    pub sub: &'a str,
    /// Audience.
    pub aud: &'a str,
    /// Issued at.
    pub iat: u64,
    /// Expires at.
    pub exp: u64,
    /// Token ID.
    pub jti: &'a str,
    /// The application's claim.
    pub role: &'a str,
}

/// The claims of [`TOKEN`].
#[must_use]
pub const fn claims() -> Claims<'static> {
    Claims {
        iss: ISSUER,
        sub: "user-42",
        aud: "api",
        iat: 1_767_225_600,
        exp: 4_102_444_800,
        jti: "c9f0f895fb",
        role: "editor",
    }
}

/// NOT A RANDOM NUMBER GENERATOR: xorshift64* from a fixed seed, standing in for the
/// board's TRNG so the firmware links what a real one would.
#[derive(Debug)]
pub struct StandInRng(pub u64);

impl TryRng for StandInRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        Ok(x.wrapping_mul(0x2545_f491_4f6c_dd1d))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// See the type's docs: a stand-in only.
impl TryCryptoRng for StandInRng {}

/// Keeps `value` alive without a side channel the optimizer can see through.
pub fn sink(value: usize) {
    core::hint::black_box(value);
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // Ends a QEMU run with failure; spins on hardware.
    cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
