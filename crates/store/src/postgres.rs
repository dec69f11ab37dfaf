//! PostgreSQL store, for several relay front-ends on one database.
//!
//! The write rules are those of the LMDB store, applied in one transaction per event. Writers
//! that could race (same id, same address, a deletion and its targets) take transaction-scoped
//! advisory locks, always in sorted order so they cannot deadlock. A committed event is
//! announced with NOTIFY; every front-end LISTENs and fans out what the others saved.
//! PostgreSQL's default `synchronous_commit` makes the commit durable before OK.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Pool, Runtime};
use futures_util::future::BoxFuture;
use seedstr_proto::event::{expiration, supersedes_parts};
use seedstr_proto::{Event, Filter};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;
use tokio_postgres::types::ToSql;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::keys;
use crate::rules::{address_d, deletion_targets, indexed_tags, DeletionTargets};
use crate::search::{
    prefix_bounds, rank, SearchPlan, CANDIDATES, MAX_EXPANSIONS, MAX_POSTINGS, SAMPLE,
};
use crate::{
    merge_results, IdList, QueryOptions, Result, SaveOutcome, Store, StoreError, StoredEvent,
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS events (
    id BYTEA PRIMARY KEY,
    pubkey BYTEA NOT NULL,
    kind INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    expiration BIGINT,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (created_at DESC, id);
CREATE INDEX IF NOT EXISTS events_by_author ON events (pubkey, created_at DESC);
CREATE INDEX IF NOT EXISTS events_by_kind ON events (kind, created_at DESC);
CREATE INDEX IF NOT EXISTS events_by_author_kind ON events (pubkey, kind, created_at DESC);
CREATE INDEX IF NOT EXISTS events_by_expiration ON events (expiration) WHERE expiration IS NOT NULL;
-- value_key: the tag value as in the LMDB index (short values as is, long ones hashed), so
-- btree entries stay small whatever the tag.
CREATE TABLE IF NOT EXISTS event_tags (
    event_id BYTEA NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    letter "char" NOT NULL,
    value_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS event_tags_lookup ON event_tags (letter, value_key, created_at DESC);
CREATE INDEX IF NOT EXISTS event_tags_event ON event_tags (event_id);
CREATE TABLE IF NOT EXISTS addresses (
    address BYTEA PRIMARY KEY,
    event_id BYTEA NOT NULL REFERENCES events (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS deleted_ids (
    id BYTEA NOT NULL,
    pubkey BYTEA NOT NULL,
    PRIMARY KEY (id, pubkey)
);
CREATE TABLE IF NOT EXISTS deleted_addresses (
    address BYTEA PRIMARY KEY,
    until BIGINT NOT NULL
);
-- The word index (NIP-50): each searchable word of an event, as `seedstr_proto::search` cuts
-- them, as UTF-8 bytes so that a beginning is a byte range whatever the collation.
CREATE TABLE IF NOT EXISTS event_words (
    event_id BYTEA NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    word BYTEA NOT NULL,
    weight SMALLINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS event_words_lookup ON event_words (word, created_at DESC);
CREATE INDEX IF NOT EXISTS event_words_event ON event_words (event_id);
CREATE TABLE IF NOT EXISTS store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Ephemeral events passing between front-ends: never queried, kept a minute, not logged.
CREATE UNLOGGED TABLE IF NOT EXISTS ephemeral_events (
    seq BIGSERIAL PRIMARY KEY,
    json TEXT NOT NULL,
    at BIGINT NOT NULL
);
"#;

/// Ephemeral events older than this are removed from `ephemeral_events` by the sweeper.
const EPHEMERAL_KEEP_SECS: i64 = 60;

/// Notification payload prefix (after the origin) of a shared ephemeral event.
const EPHEMERAL_MARK: &str = "eph:";

const CHANNEL: &str = "seedstr_events";

/// The scale-out store: PostgreSQL shared by several relay front-ends, which hear of
/// each other's saves through `LISTEN`/`NOTIFY`.
pub struct PgStore {
    pool: Pool,
    /// Distinguishes this process's NOTIFYs from other front-ends'.
    origin: String,
    foreign: broadcast::Sender<Arc<Event>>,
}

fn value_key(v: &str) -> Vec<u8> {
    let mut k = Vec::new();
    keys::value_key(&mut k, v);
    k
}

/// Advisory lock key for a byte string.
fn lock_key(kind: u8, bytes: &[u8]) -> i64 {
    let mut h = Sha256::new();
    h.update([kind]);
    h.update(bytes);
    i64::from_be_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}

fn over_budget(e: tokio_postgres::Error, budget: Duration) -> StoreError {
    if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) {
        StoreError::OverBudget(budget)
    } else {
        StoreError::Postgres(e)
    }
}

/// Our own URL parameter: a PEM file of certificates to trust for the server's TLS
/// certificate besides the system's (libpq spells it the same). PostgreSQL's Rust client does
/// not know it, so it is taken out before the URL goes there.
const ROOT_CERT_PARAM: &str = "sslrootcert";

/// The URL without `sslrootcert=…`, and that file.
fn split_root_cert(url: &str) -> (String, Option<std::path::PathBuf>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut file = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.split_once('=') {
            Some((k, v)) if k == ROOT_CERT_PARAM => {
                let path = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
                file = Some(std::path::PathBuf::from(path.into_owned()));
                false
            }
            _ => true,
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, file)
}

/// The TLS connector: the system's trusted certificates, and those of `root_cert` if given.
/// Whether TLS is used is the URL's `sslmode` (`disable`, `prefer`, the default, or
/// `require`); the server's certificate is always checked against these roots.
fn tls_connector(root_cert: Option<&std::path::Path>) -> Result<MakeRustlsConnect> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = root_cert {
        let bad = |e: String| {
            StoreError::Backend(format!(
                "reading the certificates in {}: {e}",
                path.display()
            ))
        };
        let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))?;
        for cert in certs {
            roots
                .add(cert.map_err(|e| bad(e.to_string()))?)
                .map_err(|e| bad(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Backend(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

impl PgStore {
    /// Connects, creates the schema if needed and starts listening for other front-ends.
    /// `sslmode=require` in the URL makes every connection use TLS, checked against the
    /// system's certificates and those of `sslrootcert=<PEM file>`.
    pub async fn connect(url: &str) -> Result<Arc<PgStore>> {
        let (url, root_cert) = split_root_cert(url);
        let url = url.as_str();
        let tls = tls_connector(root_cert.as_deref())?;
        let mut cfg = deadpool_postgres::Config::new();
        cfg.url = Some(url.to_string());
        let pool = cfg
            .create_pool(Some(Runtime::Tokio1), tls.clone())
            .map_err(|e| {
                StoreError::Backend(format!("PostgreSQL pool for {}: {e}", redacted(url)))
            })?;
        let mut client = pool.get().await.map_err(pool_err)?;
        client.batch_execute(SCHEMA).await?;
        index_words_of_older_events(&mut client).await?;
        drop(client);
        let (foreign, _) = broadcast::channel(4096);
        let store = Arc::new(PgStore {
            pool,
            origin: hex::encode(rand_bytes()),
            foreign,
        });
        store.listen(url, tls).await?;
        Ok(store)
    }

    /// A dedicated connection LISTENs; each notification names an event saved elsewhere. The
    /// first connection must succeed; after that, a lost connection is logged and made again
    /// (backing off to 30 s), and logged again once it listens.
    async fn listen(self: &Arc<Self>, url: &str, tls: MakeRustlsConnect) -> Result<()> {
        let first = Listener::open(url, &tls).await?;
        let store = Arc::downgrade(self);
        let url = url.to_owned();
        tokio::spawn(async move {
            let shown = redacted(&url);
            let mut listener = Some(first);
            let mut pause = Duration::from_secs(1);
            loop {
                let current = match listener.take() {
                    Some(l) => l,
                    None => match Listener::open(&url, &tls).await {
                        Ok(l) => {
                            tracing::info!("listening to {shown} again");
                            pause = Duration::from_secs(1);
                            l
                        }
                        Err(e) => {
                            tracing::warn!(
                                "the LISTEN connection to {shown} could not be made again ({e}); retrying in {} s",
                                pause.as_secs()
                            );
                            tokio::time::sleep(pause).await;
                            pause = (pause * 2).min(Duration::from_secs(30));
                            continue;
                        }
                    },
                };
                match current.pump(&store).await {
                    None => break,
                    Some(why) => tracing::warn!(
                        "the LISTEN connection to {shown} was lost ({why}); events other front-ends save meanwhile reach their own subscribers only; reconnecting"
                    ),
                }
            }
        });
        Ok(())
    }

    /// Fans out the event a notification names, unless this process saved it.
    async fn on_notification(&self, payload: &str) {
        let Some((origin, id)) = payload.split_once(':') else {
            return;
        };
        if origin == self.origin {
            return;
        }
        let fetched = match id.strip_prefix(EPHEMERAL_MARK) {
            Some(seq) => match seq.parse::<i64>() {
                Ok(seq) => {
                    self.fetch_one("SELECT json FROM ephemeral_events WHERE seq = $1", &seq)
                        .await
                }
                Err(_) => return,
            },
            None => match hex::decode(id) {
                Ok(id) => {
                    self.fetch_one("SELECT json FROM events WHERE id = $1", &id)
                        .await
                }
                Err(_) => return,
            },
        };
        match fetched {
            Ok(Some(json)) => {
                if let Ok(e) = Event::from_json(json) {
                    let _ = self.foreign.send(Arc::new(e));
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("fetching a notified event: {e}"),
        }
    }

    /// The JSON in the one row (if any) that `sql` finds for `key`.
    async fn fetch_one<T: tokio_postgres::types::ToSql + Sync>(
        &self,
        sql: &str,
        key: &T,
    ) -> Result<Option<String>> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let row = client.query_opt(sql, &[key]).await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Saves one event in one transaction: every row it touches locked first, then checked
    /// (a duplicate, deleted, or older than what its address holds), inserted with its tags and
    /// address, and, for a deletion, what it deletes removed; committed before the answer.
    async fn save_event(&self, event: &Event) -> Result<SaveOutcome> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.transaction().await?;
        let row = EventRow::of(event);
        lock_rows(&tx, event, &row).await?;
        if let Some(outcome) = refusal(&tx, event, &row).await? {
            return Ok(outcome);
        }
        insert_event(&tx, event, &row).await?;
        if let Some(targets) = &row.deletion {
            apply_deletion(&tx, event, &row, targets).await?;
        }
        let payload = format!("{}:{}", self.origin, event.id.to_hex());
        tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
            .await?;
        tx.commit().await?;
        Ok(SaveOutcome::Saved)
    }

    /// Rows `(created_at, id, json)` for one filter, newest first, ties by lowest id.
    async fn run_filter(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        f: &Filter,
        limit: Option<usize>,
        now: u64,
        with_json: bool,
    ) -> std::result::Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
        let mut conds = vec!["(e.expiration IS NULL OR e.expiration > $1)".to_string()];
        let now = now as i64;
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(now)];
        let push = |params: &mut Vec<Box<dyn ToSql + Sync + Send>>,
                    p: Box<dyn ToSql + Sync + Send>| {
            params.push(p);
            params.len()
        };
        if let Some(ids) = &f.ids {
            let v: Vec<Vec<u8>> = ids.iter().map(|i| i.to_vec()).collect();
            let n = push(&mut params, Box::new(v));
            conds.push(format!("e.id = ANY(${n})"));
        }
        if let Some(authors) = &f.authors {
            let v: Vec<Vec<u8>> = authors.iter().map(|i| i.to_vec()).collect();
            let n = push(&mut params, Box::new(v));
            conds.push(format!("e.pubkey = ANY(${n})"));
        }
        if let Some(kinds) = &f.kinds {
            let v: Vec<i32> = kinds.iter().map(|k| *k as i32).collect();
            let n = push(&mut params, Box::new(v));
            conds.push(format!("e.kind = ANY(${n})"));
        }
        if let Some(s) = f.since {
            let n = push(&mut params, Box::new(s.min(i64::MAX as u64) as i64));
            conds.push(format!("e.created_at >= ${n}"));
        }
        if let Some(u) = f.until {
            let n = push(&mut params, Box::new(u.min(i64::MAX as u64) as i64));
            conds.push(format!("e.created_at <= ${n}"));
        }
        for (letter, values) in &f.tags {
            let l = push(&mut params, Box::new(*letter as i8));
            let v: Vec<Vec<u8>> = values.iter().map(|v| value_key(v)).collect();
            let n = push(&mut params, Box::new(v));
            conds.push(format!(
                "e.id IN (SELECT event_id FROM event_tags WHERE letter = ${l} AND value_key = ANY(${n}))"
            ));
        }
        let cols = if with_json {
            "e.created_at, e.id, e.json"
        } else {
            "e.created_at, e.id"
        };
        let mut sql = format!(
            "SELECT {cols} FROM events e WHERE {} ORDER BY e.created_at DESC, e.id ASC",
            conds.join(" AND ")
        );
        if let Some(l) = limit {
            sql.push_str(&format!(" LIMIT {l}"));
        }
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        tx.query(&sql, &refs).await
    }

    async fn read<T>(
        &self,
        filters: &[Filter],
        opts: QueryOptions,
        limit: impl Fn(&Filter) -> Option<usize>,
        with_json: bool,
        each: impl Fn(tokio_postgres::Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.build_transaction().read_only(true).start().await?;
        tx.batch_execute(&format!(
            "SET LOCAL statement_timeout = {}",
            opts.budget.as_millis().max(1)
        ))
        .await?;
        let mut out = Vec::new();
        for f in filters.iter().filter(|f| !f.is_void()) {
            let rows = self
                .run_filter(&tx, f, limit(f), opts.now, with_json)
                .await
                .map_err(|e| over_budget(e, opts.budget))?;
            for r in rows {
                out.push(each(r)?);
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}

impl PgStore {
    /// NIP-50 over `event_words`, as `crate::search` describes.
    async fn search_events(&self, filter: &Filter, opts: QueryOptions) -> Result<Vec<StoredEvent>> {
        let plan = SearchPlan::new(filter, filter.effective_limit(opts.max_limit));
        if plan.words.is_empty() || plan.rest.is_void() || plan.limit == 0 {
            return Ok(Vec::new());
        }
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.build_transaction().read_only(true).start().await?;
        tx.batch_execute(&format!(
            "SET LOCAL statement_timeout = {}",
            opts.budget.as_millis().max(1)
        ))
        .await?;
        let rows = self
            .search_candidates(&tx, &plan, opts.now)
            .await
            .map_err(|e| over_budget(e, opts.budget))?;
        tx.commit().await?;
        let mut found = Vec::new();
        for r in rows {
            if found.len() >= CANDIDATES {
                break;
            }
            let json: &str = r.get(2);
            let event = Event::from_json(json)
                .map_err(|e| StoreError::Corrupt(format!("stored event JSON: {e}")))?;
            if let Some(score) = plan.relevance(&event) {
                let stored = StoredEvent {
                    created_at: r.get::<_, i64>(0) as u64,
                    id: row_id(&r)?,
                    json: Arc::from(json),
                };
                found.push((score, stored));
            }
        }
        Ok(rank(found, plan.limit))
    }

    /// Rows `(created_at, id, json)` that may match, newest first: the events with the given
    /// ids, or those posted under the rarest query word's beginnings.
    async fn search_candidates(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        plan: &SearchPlan,
        now: u64,
    ) -> std::result::Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
        if plan.rest.ids.is_some() {
            return self.run_filter(tx, &plan.rest, None, now, true).await;
        }
        let mut driver = None;
        let mut fewest = (i64::MAX, std::cmp::Reverse(0));
        for w in &plan.words {
            let (lo, hi) = prefix_bounds(w);
            let n: i64 = tx
                .query_one(
                    "SELECT count(*) FROM (SELECT 1 FROM event_words WHERE word >= $1 AND word < $2 LIMIT $3) t",
                    &[&lo, &hi, &(SAMPLE as i64)],
                )
                .await?
                .get(0);
            if n == 0 {
                return Ok(Vec::new());
            }
            if (n, std::cmp::Reverse(w.len())) < fewest {
                fewest = (n, std::cmp::Reverse(w.len()));
                driver = Some(w);
            }
        }
        let (lo, hi) = prefix_bounds(driver.expect("a query word"));
        // The first MAX_EXPANSIONS distinct words in the range, one index probe each.
        let expansions: Vec<Vec<u8>> = tx
            .query(
                "WITH RECURSIVE w(word, n) AS (
                    (SELECT word, 1 FROM event_words WHERE word >= $1 AND word < $2 ORDER BY word LIMIT 1)
                    UNION ALL
                    SELECT (SELECT word FROM event_words WHERE word > w.word AND word < $2 ORDER BY word LIMIT 1), n + 1
                    FROM w WHERE w.word IS NOT NULL AND n < $3)
                 SELECT word FROM w WHERE word IS NOT NULL",
                &[&lo, &hi, &(MAX_EXPANSIONS as i32)],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let since = plan.rest.since.unwrap_or(0).min(i64::MAX as u64) as i64;
        let until = plan.rest.until.unwrap_or(u64::MAX).min(i64::MAX as u64) as i64;
        let kinds: Option<Vec<i32>> = plan
            .rest
            .kinds
            .as_ref()
            .map(|k| k.iter().map(|k| i32::from(*k)).collect());
        tx.query(
            "SELECT e.created_at, e.id, e.json FROM events e
             WHERE e.id IN (SELECT event_id FROM event_words
                            WHERE word = ANY($1) AND created_at >= $2 AND created_at <= $3
                            ORDER BY created_at DESC LIMIT $4)
               AND (e.expiration IS NULL OR e.expiration > $5)
               AND ($6::int4[] IS NULL OR e.kind = ANY($6))
             ORDER BY e.created_at DESC, e.id ASC",
            &[
                &expansions,
                &since,
                &until,
                &(MAX_POSTINGS as i64),
                &(now.min(i64::MAX as u64) as i64),
                &kinds,
            ],
        )
        .await
    }
}

fn row_id(r: &tokio_postgres::Row) -> Result<[u8; 32]> {
    let id: Vec<u8> = r.get(1);
    id.as_slice()
        .try_into()
        .map_err(|_| StoreError::Corrupt("event id length".into()))
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Backend(format!("PostgreSQL connection: {e}"))
}

/// One LISTEN connection: its client, and what its connection task hears.
struct Listener {
    _client: tokio_postgres::Client,
    heard: tokio::sync::mpsc::UnboundedReceiver<std::result::Result<String, String>>,
}

impl Listener {
    async fn open(url: &str, tls: &MakeRustlsConnect) -> Result<Listener> {
        let (client, mut conn) = tokio_postgres::connect(url, tls.clone()).await?;
        let (tx, heard) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            use futures_util::StreamExt;
            let mut messages = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
            loop {
                let sent = match messages.next().await {
                    Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                        tx.send(Ok(n.payload().to_string()))
                    }
                    Some(Ok(_)) => Ok(()),
                    Some(Err(e)) => {
                        let _ = tx.send(Err(e.to_string()));
                        break;
                    }
                    None => {
                        let _ = tx.send(Err("the server closed the connection".into()));
                        break;
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        Ok(Listener {
            _client: client,
            heard,
        })
    }

    /// Hands notifications to the store until the connection is lost (`Some(why)`) or the
    /// store is gone (`None`).
    async fn pump(mut self, store: &std::sync::Weak<PgStore>) -> Option<String> {
        while let Some(heard) = self.heard.recv().await {
            let payload = match heard {
                Ok(p) => p,
                Err(why) => return Some(why),
            };
            let store = store.upgrade()?;
            store.on_notification(&payload).await;
        }
        Some("the connection task ended".into())
    }
}

/// A connection string fit to show: the password, in a URL's user part, a `password=` query
/// parameter or a `password=` key, replaced by `***`.
pub fn redacted(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest = scheme_end + 3;
        let authority_end = out[rest..].find(['/', '?']).map_or(out.len(), |i| rest + i);
        if let Some(at) = out[rest..authority_end].rfind('@') {
            let userinfo = &out[rest..rest + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest + colon + 1..rest + at, "***");
            }
        }
    }
    // `password=…` as a query parameter or a key=value setting, up to `&` or whitespace.
    let mut from = 0;
    while let Some(i) = out[from..].find("password=") {
        let start = from + i + "password=".len();
        let end = out[start..]
            .find(|c: char| c == '&' || c.is_whitespace())
            .map_or(out.len(), |j| start + j);
        out.replace_range(start..end, "***");
        from = start + 3;
    }
    out
}

fn rand_bytes() -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(std::process::id().to_be_bytes());
    h.update(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            .to_be_bytes(),
    );
    h.finalize()[..8].try_into().expect("8 bytes")
}

impl Store for PgStore {
    fn save(&self, event: Event) -> BoxFuture<'_, Result<SaveOutcome>> {
        Box::pin(async move { self.save_event(&event).await })
    }

    fn query(
        &self,
        filters: Vec<Filter>,
        opts: QueryOptions,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>>> {
        Box::pin(async move {
            let all = self
                .read(
                    &filters,
                    opts,
                    |f| Some(f.effective_limit(opts.max_limit)),
                    true,
                    |r| {
                        Ok(StoredEvent {
                            created_at: r.get::<_, i64>(0) as u64,
                            id: row_id(&r)?,
                            json: Arc::from(r.get::<_, &str>(2)),
                        })
                    },
                )
                .await?;
            Ok(merge_results(all))
        })
    }

    fn count(&self, filters: Vec<Filter>, opts: QueryOptions) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let mut ids = self
                .read(&filters, opts, |_| None, false, |r| row_id(&r))
                .await?;
            ids.sort_unstable();
            ids.dedup();
            Ok(ids.len() as u64)
        })
    }

    fn ids(&self, filter: Filter, opts: QueryOptions) -> BoxFuture<'_, Result<IdList>> {
        Box::pin(async move {
            self.read(
                std::slice::from_ref(&filter),
                opts,
                |f| f.limit,
                false,
                |r| Ok((r.get::<_, i64>(0) as u64, row_id(&r)?)),
            )
            .await
        })
    }

    fn search(
        &self,
        filter: Filter,
        opts: QueryOptions,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>>> {
        Box::pin(async move { self.search_events(&filter, opts).await })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<usize>> {
        Box::pin(async move {
            let client = self.pool.get().await.map_err(pool_err)?;
            let n = client
                .execute(
                    "DELETE FROM events WHERE expiration IS NOT NULL AND expiration <= $1",
                    &[&(now as i64)],
                )
                .await?;
            client
                .execute(
                    "DELETE FROM ephemeral_events WHERE at < $1",
                    &[&(now as i64 - EPHEMERAL_KEEP_SECS)],
                )
                .await?;
            Ok(n as usize)
        })
    }

    fn share_ephemeral(&self, event: &Event) -> BoxFuture<'_, Result<()>> {
        let json = event.as_json();
        Box::pin(async move {
            let mut client = self.pool.get().await.map_err(pool_err)?;
            let tx = client.transaction().await?;
            // The event travels by table, not in the payload: NOTIFY payloads stop at 8000
            // bytes and an ephemeral event may be larger.
            let row = tx
                .query_one(
                    "INSERT INTO ephemeral_events (json, at) VALUES ($1, $2) RETURNING seq",
                    &[&json, &(seedstr_proto::clock::unix_now() as i64)],
                )
                .await?;
            let seq: i64 = row.get(0);
            let payload = format!("{}:{EPHEMERAL_MARK}{seq}", self.origin);
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn foreign_events(&self) -> Option<broadcast::Receiver<Arc<Event>>> {
        Some(self.foreign.subscribe())
    }
}
/// The columns of one event that the save path reads and writes.
struct EventRow {
    id: Vec<u8>,
    pubkey: Vec<u8>,
    kind: u16,
    at: i64,
    /// The address it replaces others at, for replaceable and addressable kinds.
    address: Option<Vec<u8>>,
    /// What it deletes, for a deletion (kind 5).
    deletion: Option<DeletionTargets>,
}

impl EventRow {
    fn of(event: &Event) -> EventRow {
        let kind = event.kind.as_u16();
        EventRow {
            id: event.id.as_bytes().to_vec(),
            pubkey: event.pubkey.as_bytes().to_vec(),
            kind,
            at: event.created_at.as_secs() as i64,
            address: address_d(event).map(|d| keys::address(kind, event.pubkey.as_bytes(), d)),
            deletion: (kind == seedstr_proto::kind::DELETION).then(|| deletion_targets(event)),
        }
    }
}

/// Takes the advisory locks of every id and address the event touches, in one order, so two
/// front-ends saving rival versions never interleave.
async fn lock_rows(
    tx: &deadpool_postgres::Transaction<'_>,
    event: &Event,
    row: &EventRow,
) -> Result<()> {
    let mut locks = vec![lock_key(b'i', &row.id)];
    if let Some(a) = &row.address {
        locks.push(lock_key(b'a', a));
    }
    if let Some(t) = &row.deletion {
        locks.extend(t.ids.iter().map(|i| lock_key(b'i', i)));
        locks.extend(
            t.addresses
                .iter()
                .map(|(k, d)| lock_key(b'a', &keys::address(*k, event.pubkey.as_bytes(), d))),
        );
    }
    locks.sort_unstable();
    locks.dedup();
    for l in &locks {
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[l]).await?;
    }
    Ok(())
}

/// Why the event is not saved, if it is not: held already, deleted by its author, or older
/// than the version its address holds (which, when older, is removed here).
async fn refusal(
    tx: &deadpool_postgres::Transaction<'_>,
    event: &Event,
    row: &EventRow,
) -> Result<Option<SaveOutcome>> {
    if tx
        .query_opt("SELECT 1 FROM events WHERE id = $1", &[&row.id])
        .await?
        .is_some()
    {
        return Ok(Some(SaveOutcome::Duplicate));
    }
    if tx
        .query_opt(
            "SELECT 1 FROM deleted_ids WHERE id = $1 AND pubkey = $2",
            &[&row.id, &row.pubkey],
        )
        .await?
        .is_some()
    {
        return Ok(Some(SaveOutcome::Deleted));
    }
    let Some(addr) = &row.address else {
        return Ok(None);
    };
    if let Some(deleted) = tx
        .query_opt(
            "SELECT until FROM deleted_addresses WHERE address = $1",
            &[addr],
        )
        .await?
    {
        if row.at <= deleted.get::<_, i64>(0) {
            return Ok(Some(SaveOutcome::Deleted));
        }
    }
    if let Some(held) = tx
        .query_opt(
            "SELECT e.id, e.created_at FROM addresses a JOIN events e ON e.id = a.event_id WHERE a.address = $1",
            &[addr],
        )
        .await?
    {
        let old_id: Vec<u8> = held.get(0);
        let old_at: i64 = held.get(1);
        let old_id32: [u8; 32] = old_id
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt("event id length".into()))?;
        if !supersedes_parts(row.at as u64, event.id.as_bytes(), old_at as u64, &old_id32) {
            return Ok(Some(SaveOutcome::Superseded));
        }
        tx.execute("DELETE FROM events WHERE id = $1", &[&old_id])
            .await?;
    }
    Ok(None)
}

/// Inserts the event, its indexed tags and its address.
async fn insert_event(
    tx: &deadpool_postgres::Transaction<'_>,
    event: &Event,
    row: &EventRow,
) -> Result<()> {
    let exp = expiration(event).map(|e| e.min(i64::MAX as u64) as i64);
    tx.execute(
        "INSERT INTO events (id, pubkey, kind, created_at, expiration, json) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&row.id, &row.pubkey, &(row.kind as i32), &row.at, &exp, &event.as_json()],
    )
    .await?;
    let mut tags: Vec<(i8, Vec<u8>)> = indexed_tags(event)
        .map(|(l, v)| (l as i8, value_key(v)))
        .collect();
    tags.sort_unstable();
    tags.dedup();
    if !tags.is_empty() {
        let letters: Vec<i8> = tags.iter().map(|t| t.0).collect();
        let values: Vec<Vec<u8>> = tags.into_iter().map(|t| t.1).collect();
        tx.execute(
            "INSERT INTO event_tags (event_id, letter, value_key, created_at) SELECT $1, l, v, $4 FROM unnest($2::\"char\"[], $3::bytea[]) AS t(l, v)",
            &[&row.id, &letters, &values, &row.at],
        )
        .await?;
    }
    insert_words(tx, event, &row.id).await?;
    if let Some(addr) = &row.address {
        tx.execute(
            "INSERT INTO addresses (address, event_id) VALUES ($1, $2) ON CONFLICT (address) DO UPDATE SET event_id = EXCLUDED.event_id",
            &[addr, &row.id],
        )
        .await?;
    }
    Ok(())
}

/// The event's searchable words into `event_words`.
async fn insert_words(
    tx: &deadpool_postgres::Transaction<'_>,
    event: &Event,
    id: &Vec<u8>,
) -> Result<()> {
    let words = seedstr_proto::search::indexed_words(event);
    if words.is_empty() {
        return Ok(());
    }
    let (words, weights): (Vec<Vec<u8>>, Vec<i16>) = words
        .into_iter()
        .map(|(w, weight)| (w.into_bytes(), i16::from(weight)))
        .unzip();
    tx.execute(
        "INSERT INTO event_words (event_id, word, weight, created_at) SELECT $1, w, wt, $4 FROM unnest($2::bytea[], $3::int2[]) AS t(w, wt)",
        &[id, &words, &weights, &(event.created_at.as_secs() as i64)],
    )
    .await?;
    Ok(())
}

/// The word index's version in `store_meta`: bumped when what is indexed changes.
const WORD_INDEX_VERSION: &str = "2";
/// Events indexed per transaction while the word index is built.
const WORD_INDEX_BATCH: i64 = 5_000;

/// A database written before the word index existed gets it built once, by the first
/// front-end to start (the others wait on the advisory lock, then find it done).
async fn index_words_of_older_events(client: &mut deadpool_postgres::Client) -> Result<()> {
    const LOCK: i64 = 0x5eed_0050;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK])
        .await?;
    let result = async {
        let done = client
            .query_opt(
                "SELECT 1 FROM store_meta WHERE key = 'word_index' AND value = $1",
                &[&WORD_INDEX_VERSION],
            )
            .await?
            .is_some();
        if done {
            return Ok(());
        }
        client.execute("DELETE FROM event_words", &[]).await?;
        let mut after: Vec<u8> = Vec::new();
        loop {
            let tx = client.transaction().await?;
            let rows = tx
                .query(
                    "SELECT id, json FROM events WHERE id > $1 ORDER BY id LIMIT $2",
                    &[&after, &WORD_INDEX_BATCH],
                )
                .await?;
            for r in &rows {
                let id: Vec<u8> = r.get(0);
                let json: &str = r.get(1);
                let event = Event::from_json(json)
                    .map_err(|e| StoreError::Corrupt(format!("stored event JSON: {e}")))?;
                insert_words(&tx, &event, &id).await?;
            }
            let last = rows.last().map(|r| r.get::<_, Vec<u8>>(0));
            if last.is_none() {
                tx.execute(
                    "INSERT INTO store_meta (key, value) VALUES ('word_index', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    &[&WORD_INDEX_VERSION],
                )
                .await?;
            }
            tx.commit().await?;
            match last {
                Some(id) => after = id,
                None => return Ok(()),
            }
        }
    }
    .await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK])
        .await?;
    result
}

/// Removes what a deletion names (its author's events only) and remembers it, so the
/// deleted events are refused if they come again.
async fn apply_deletion(
    tx: &deadpool_postgres::Transaction<'_>,
    event: &Event,
    row: &EventRow,
    targets: &DeletionTargets,
) -> Result<()> {
    for target in &targets.ids {
        let t = target.to_vec();
        tx.execute(
            "DELETE FROM events WHERE id = $1 AND pubkey = $2 AND kind <> 5",
            &[&t, &row.pubkey],
        )
        .await?;
        tx.execute(
            "INSERT INTO deleted_ids (id, pubkey) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&t, &row.pubkey],
        )
        .await?;
    }
    for (k, d) in &targets.addresses {
        let addr = keys::address(*k, event.pubkey.as_bytes(), d);
        tx.execute(
            "DELETE FROM events WHERE id = (SELECT event_id FROM addresses WHERE address = $1) AND created_at <= $2",
            &[&addr, &row.at],
        )
        .await?;
        tx.execute(
            "INSERT INTO deleted_addresses (address, until) VALUES ($1, $2) ON CONFLICT (address) DO UPDATE SET until = GREATEST(deleted_addresses.until, EXCLUDED.until)",
            &[&addr, &row.at],
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redacted("postgres://relay:s3cr%40t@db.example:5432/nostr?sslmode=require"),
            "postgres://relay:***@db.example:5432/nostr?sslmode=require"
        );
        assert_eq!(
            redacted("postgresql://relay@db/nostr?password=hunter2&application_name=x"),
            "postgresql://relay@db/nostr?password=***&application_name=x"
        );
        assert_eq!(
            redacted("host=db user=relay password=hunter2 dbname=nostr"),
            "host=db user=relay password=*** dbname=nostr"
        );
        assert_eq!(
            redacted("postgres://relay@127.0.0.1/x"),
            "postgres://relay@127.0.0.1/x"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Whatever the password (no `@`, `/`, `?`, `&` or space, as URLs and settings
        /// require them escaped), it is not in the redacted text.
        #[test]
        fn a_password_is_never_in_the_redacted_text(
            user in "[a-z]{1,8}",
            password in "[A-Za-z0-9%!$^*()_+=-]{6,20}",
            host in "[a-z]{1,8}",
        ) {
            for url in [
                format!("postgres://{user}:{password}@{host}/db"),
                format!("postgres://{user}@{host}/db?password={password}"),
                format!("host={host} password={password} user={user}"),
            ] {
                prop_assert!(!redacted(&url).contains(&password), "{} -> {}", url, redacted(&url));
            }
        }
    }
}
