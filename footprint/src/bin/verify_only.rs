//! A firmware that only verifies tokens: one key, one policy, one claims type.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use tokenstile::jwt::{self, Hs256Key, Validation};
use tokenstile_footprint::{AUDIENCES, Claims, ISSUER, NOW, SECRET, TOKEN, sink};

#[entry]
fn main() -> ! {
    let Ok(key) = Hs256Key::new_from_slice(black_box(SECRET)) else {
        panic!()
    };
    let policy = Validation::new()
        .with_issuer(ISSUER)
        .with_audiences(AUDIENCES);
    let mut scratch = [0u8; 512];
    loop {
        let token = black_box(TOKEN);
        match jwt::verify::<Claims<'_>, _>(&key, token, &policy, black_box(NOW), &mut scratch) {
            Ok(v) => sink(v.claims.role.len()),
            Err(e) => {
                black_box(e);
            }
        }
    }
}
