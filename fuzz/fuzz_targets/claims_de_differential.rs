#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokenstile_fuzz::claims_de_differential(data));
