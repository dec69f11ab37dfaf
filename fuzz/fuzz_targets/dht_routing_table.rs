#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = seedstr_fuzz::target("dht_routing_table").expect("a known target");
    target(data);
});
