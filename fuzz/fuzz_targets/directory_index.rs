#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = seedstr_fuzz::target("directory_index").expect("a known target");
    target(data);
});
