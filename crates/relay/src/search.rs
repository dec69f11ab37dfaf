//! NIP-50 search, offered by whoever sets a [`Search`] on the relay (the directory does, over
//! profiles). The relay asks it for the matching event ids, most relevant first, then reads
//! those events from the store with the filter's other conditions, and sends them in that
//! order. Without one, a filter with `search` is refused by name.

use seedstr_proto::filter::Filter;

/// Finds the events a NIP-50 query matches.
pub trait Search: Send + Sync {
    /// The ids of at most `limit` events matching `filter`'s `search` (and, as far as the
    /// index knows, its other conditions), most relevant first.
    fn search(&self, filter: &Filter, limit: usize) -> Vec<[u8; 32]>;
}

/// `filter` with its search answered: narrowed to the ids `search` found, in their order.
pub fn narrowed(filter: &Filter, ids: &[[u8; 32]]) -> Filter {
    let mut f = filter.clone();
    f.search = None;
    f.limit = None;
    let mut found: Vec<[u8; 32]> = ids.to_vec();
    if let Some(own) = &filter.ids {
        found.retain(|id| own.binary_search(id).is_ok());
    }
    found.sort_unstable();
    found.dedup();
    f.ids = Some(found);
    f
}
