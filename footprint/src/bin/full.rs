//! A firmware with everything: sign, verify, verify plus revocation, revoke, and sessions
//! (create, load, rotate, destroy) in a `MemoryStore`.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use tokenstile::jwt::{self, Hs256Key, Validation};
use tokenstile::session::{SessionId, SessionPolicy};
use tokenstile::store::{MemoryStore, block_on};
use tokenstile_footprint::{
    AUDIENCES, Claims, ISSUER, NOW, SECRET, StandInRng, TOKEN, claims, sink,
};

#[entry]
fn main() -> ! {
    let Ok(key) = Hs256Key::new_from_slice(black_box(SECRET)) else {
        panic!()
    };
    let policy = Validation::new()
        .with_issuer(ISSUER)
        .with_audiences(AUDIENCES);
    let sessions = SessionPolicy::new();
    let mut store: MemoryStore<u32, 16, 16> = MemoryStore::new();
    let mut rng = StandInRng(0x853c_49e6_748f_ea9b);
    let mut buf = [0u8; 512];
    let mut scratch = [0u8; 512];
    loop {
        let now = black_box(NOW);
        if let Ok(token) = jwt::sign(&key, black_box(&claims()), &mut buf) {
            sink(token.len());
        }
        let token = black_box(TOKEN);
        if let Ok(v) = block_on(jwt::verify_not_revoked::<Claims<'_>, _, _>(
            &key,
            token,
            &policy,
            &mut store,
            now,
            &mut scratch,
        )) {
            sink(v.claims.role.len());
            if black_box(v.claims.role.len()) == 0 {
                let _ = block_on(jwt::revoke_token(
                    &mut store,
                    &v.registered,
                    policy.leeway,
                    now,
                ));
            }
        }
        if let Ok(id) =
            block_on(sessions.create(&mut store, &mut rng, "user-42", black_box(7), now))
        {
            let mut text = [0u8; SessionId::ENCODED_LEN];
            let cookie = id.encode(&mut text);
            if let Ok(parsed) = SessionId::parse(black_box(cookie)) {
                if let Ok(record) = block_on(sessions.load(&mut store, &parsed, now)) {
                    sink(*record.data() as usize);
                }
                if let Ok(rotated) = block_on(sessions.rotate(&mut store, &mut rng, &parsed, now)) {
                    let _ = block_on(sessions.destroy(&mut store, &rotated.id));
                }
            }
        }
    }
}
