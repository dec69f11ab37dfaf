//! Bytes the machine wrote to its disks, from `/proc/diskstats`: how much a relay writes per
//! event, whatever relay it is (the load generator itself writes nothing while it measures).

/// Bytes written so far to every whole disk (partitions, loop, RAM and zram devices left out,
/// so nothing is counted twice); None where `/proc/diskstats` cannot be read.
pub fn bytes_written() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/diskstats").ok()?;
    written_in(&text, is_whole_disk)
}

/// Bytes written to the devices `counted` picks, from the text of `/proc/diskstats`.
fn written_in(diskstats: &str, counted: impl Fn(&str) -> bool) -> Option<u64> {
    let mut total = 0u64;
    for line in diskstats.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // major minor name reads … ; the 7th field after the name is sectors written.
        let (Some(name), Some(sectors)) = (fields.get(2), fields.get(9)) else {
            continue;
        };
        if counted(name) {
            total += sectors.parse::<u64>().ok()? * 512;
        }
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
    /// Sectors written (the tenth field) of the devices picked, in bytes.
    #[test]
    fn sums_sectors_written_of_whole_disks() {
        let text = "   7       0 loop0 5 0 0 0 9 0 800 0 0 0 0
                    254       0 vda 1 2 3 4 5 6 1000 8 0 0 0
                    254       1 vda1 1 2 3 4 5 6 999 8 0 0 0
                    259       0 nvme0n1 1 2 3 4 5 6 24 8 0 0 0
";
        let whole = |name: &str| name == "vda" || name == "nvme0n1";
        assert_eq!(super::written_in(text, whole), Some((1000 + 24) * 512));
        assert_eq!(super::written_in("254 0 vda 1 2 3 4 5 6 x", whole), None);
    }
}
