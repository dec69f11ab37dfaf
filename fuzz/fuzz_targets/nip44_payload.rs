#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = seedstr_fuzz::target("nip44_payload").expect("a known target");
    target(data);
});
