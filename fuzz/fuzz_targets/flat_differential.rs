#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokenstile_fuzz::flat_differential(data));
