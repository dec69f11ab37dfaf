//! Bytes the machine wrote to its disks, from `/proc/diskstats`: how much a relay writes per
//! event, whatever relay it is (the load generator itself writes nothing while it measures).

/// Bytes written so far to every whole disk (partitions, loop, RAM and zram devices left out,
/// so nothing is counted twice); None where `/proc/diskstats` cannot be read.
pub fn bytes_written() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/diskstats").ok()?;
    let mut total = 0u64;
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // major minor name reads … ; the 7th field after the name is sectors written.
        let (Some(name), Some(sectors)) = (fields.get(2), fields.get(9)) else {
            continue;
        };
        if !is_whole_disk(name) {
            continue;
        }
        total += sectors.parse::<u64>().ok()? * 512;
    }
    Some(total)
}

fn is_whole_disk(name: &str) -> bool {
    let virtual_device = ["loop", "ram", "zram", "dm-", "md", "sr"]
        .iter()
        .any(|p| name.starts_with(p));
    // Partitions have their own directory under their disk's, not directly in /sys/block.
    !virtual_device && std::path::Path::new("/sys/block").join(name).exists()
}

/// Bytes written per event between two readings.
pub fn per_event(before: Option<u64>, after: Option<u64>, events: usize) -> Option<f64> {
    Some(after?.saturating_sub(before?) as f64 / events.max(1) as f64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_machine() {
        // Every Linux machine the tests run on has /proc/diskstats; the figure only grows.
        let a = super::bytes_written().expect("diskstats");
        let b = super::bytes_written().expect("diskstats");
        assert!(b >= a);
    }
}
