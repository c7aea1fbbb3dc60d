//! An empty firmware: the runtime and the panic handler, against which the others are
//! measured.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use tokenstile_footprint::sink;

#[entry]
fn main() -> ! {
    let mut n = 0usize;
    loop {
        n = n.wrapping_add(1);
        sink(n);
    }
}
