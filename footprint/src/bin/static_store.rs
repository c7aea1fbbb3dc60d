//! A `MemoryStore` in a `static`, as a firmware keeps one that is too big for its stack.
//! Its session data is a `bool`, a type with a niche, which is what would make a table of
//! `Option` slots start non-zero. A new store must be all zeros, so that it goes to `.bss`
//! and takes no flash: `measure.sh` fails if this firmware has any `.data`.
#![no_std]
#![no_main]

use core::cell::RefCell;
use core::hint::black_box;

use cortex_m::interrupt::{self, Mutex};
use cortex_m_rt::entry;
use tokenstile::session::SessionPolicy;
use tokenstile::store::{MemoryStore, block_on};
use tokenstile_footprint::{NOW, StandInRng, sink};

static STORE: Mutex<RefCell<MemoryStore<bool, 16, 16>>> =
    Mutex::new(RefCell::new(MemoryStore::new()));

#[entry]
fn main() -> ! {
    let sessions = SessionPolicy::new();
    let mut rng = StandInRng(0x853c_49e6_748f_ea9b);
    loop {
        interrupt::free(|cs| {
            let mut store = STORE.borrow(cs).borrow_mut();
            let created = block_on(sessions.create(&mut *store, &mut rng, "user-42", true, NOW));
            sink(usize::from(created.is_ok()));
            sink(black_box(store.sessions_len()));
        });
    }
}
