//! The load order: the order the folder (or a collection) already has, new plugins after it in
//! dependency order, and masters (`.esm`, `.esl`) before the rest as the engine requires.

/// `start` is the order to keep; `mods` lists each mod's plugins (name, is master), dependencies
/// first. Plugins no longer installed drop out.
pub fn order_plugins(start: &[String], mods: &[Vec<(String, bool)>]) -> Vec<String> {
    let present: Vec<(String, bool)> = mods.iter().flatten().cloned().collect();
    let is_master = |name: &str| present.iter().find(|(n, _)| n == name).map(|(_, m)| *m);
    let mut order: Vec<String> = start
        .iter()
        .filter(|p| is_master(p).is_some())
        .cloned()
        .collect();
    for (name, _) in &present {
        if !order.contains(name) {
            order.push(name.clone());
        }
    }
    // A stable partition: relative order within each class is kept.
    let (mut masters, rest): (Vec<String>, Vec<String>) =
        order.into_iter().partition(|p| is_master(p) == Some(true));
    masters.extend(rest);
    masters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_order_then_new_plugins_with_masters_first() {
        let mods = vec![
            vec![("Lib.esm".to_owned(), true)],
            vec![("B.esp".to_owned(), false), ("A.esp".to_owned(), false)],
            vec![
                ("Patch.esp".to_owned(), false),
                ("Small.esl".to_owned(), true),
            ],
        ];
        let start = vec![
            "A.esp".to_owned(),
            "Gone.esp".to_owned(),
            "B.esp".to_owned(),
        ];
        assert_eq!(
            order_plugins(&start, &mods),
            ["Lib.esm", "Small.esl", "A.esp", "B.esp", "Patch.esp"]
        );
    }
}
