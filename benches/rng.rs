//! NOT A RANDOM NUMBER GENERATOR: the xorshift64* generator that creates the sessions of
//! the benchmarks (`jwt.rs`) and of the store's instruction counts (`instructions_store.rs`),
//! so that session creation is measured without the cost of the operating system's RNG
//! (one system call per ID with `getrandom`), which a server would amortize with a
//! user-space CSPRNG anyway; and the inputs of the constant-time check (`constant_time.rs`:
//! session IDs, refresh tokens, payloads and signatures), the same on every run.

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};

/// xorshift64* from a fixed seed: the same sessions on every run.
pub(crate) struct StandInRng(pub(crate) u64);

impl TryRng for StandInRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let [_, _, _, _, a, b, c, d] = self.try_next_u64()?.to_le_bytes();
        Ok(u32::from_le_bytes([a, b, c, d]))
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
            for (dst, src) in chunk.iter_mut().zip(bytes) {
                *dst = src;
            }
        }
        Ok(())
    }
}

impl TryCryptoRng for StandInRng {}
