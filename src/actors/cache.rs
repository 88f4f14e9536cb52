//! `CacheActor`: the employee-list cache. Pages live in Redis (or, without `redis.url`, in the
//! process) under a key that carries the account's current version; a committed write replaces
//! the version before it is answered, so a page computed before the write is never found again.
//! When Redis fails, lists come from the database: nothing fails, a counter counts it, and
//! Redis is used again once it answers and has heard of every write made meanwhile.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use actix::fut::{ready, wrap_future};
use actix::{
    Actor, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message, ResponseActFuture,
};
use bytes::Bytes;
use prometheus::IntCounter;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use crate::config::{CacheSettings, RedisSettings};
use crate::metrics::{ActorStats, Metrics};

/// The messages in the cache actor's mailbox before its senders wait.
const MAILBOX_CAPACITY: usize = 1024;

/// The figures the cache reports.
#[derive(Clone)]
struct CacheStats {
    actor: ActorStats,
    hits: IntCounter,
    misses: IntCounter,
    /// Lists served from the database because Redis was unavailable.
    fallbacks: IntCounter,
}

/// One list page of one account: the account and a digest of the query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub account_id: i64,
    pub query: String,
}

/// Permission to store a page computed after the lookup: it names the version the lookup saw.
#[derive(Debug, Clone)]
pub struct Ticket {
    key: PageKey,
    version: String,
}

#[derive(Debug, Clone)]
pub enum Lookup {
    Hit(Bytes),
    Miss(Ticket),
    /// No cache at hand: compute the page and do not store it.
    Uncached,
}

/// Find a page.
struct Find(PageKey);

impl Message for Find {
    type Result = Lookup;
}

/// Keep a page computed after a `Find` that missed.
struct Keep {
    ticket: Ticket,
    page: Bytes,
}

impl Message for Keep {
    type Result = ();
}

/// Whether Redis answers now; `None` when the cache does not use Redis.
struct Ping;

impl Message for Ping {
    type Result = Option<bool>;
}

/// Forget every page of an account: sent after a committed write, awaited before answering it.
struct Invalidate {
    account_id: i64,
}

impl Message for Invalidate {
    type Result = ();
}

pub struct CacheActor {
    backend: Backend,
    stats: CacheStats,
}

/// The way to the cache actor: its messages, counted into its mailbox depth.
#[derive(Clone)]
pub struct ListCache {
    actor: Addr<CacheActor>,
    stats: ActorStats,
}

impl ListCache {
    /// Starts the cache actor: Redis when `redis.url` is set, otherwise in the process.
    pub fn start(
        cache: &CacheSettings,
        redis: &RedisSettings,
        metrics: &Metrics,
    ) -> Result<Self, redis::RedisError> {
        let stats = CacheStats {
            actor: metrics.actor("cache", MAILBOX_CAPACITY),
            hits: metrics.cache_hits.clone(),
            misses: metrics.cache_misses.clone(),
            fallbacks: metrics.cache_fallbacks.clone(),
        };
        let actor = CacheActor::new(cache, redis, stats.clone())?.start();
        Ok(Self {
            actor,
            stats: stats.actor,
        })
    }

    pub async fn find(&self, key: PageKey) -> Lookup {
        self.stats.depth.inc();
        self.actor.send(Find(key)).await.unwrap_or(Lookup::Uncached)
    }

    pub fn keep(&self, ticket: Ticket, page: Bytes) {
        self.stats.depth.inc();
        self.actor.do_send(Keep { ticket, page });
    }

    /// Whether Redis answers a PING now; `None` when the cache does not use Redis.
    pub async fn redis_answers(&self) -> Option<bool> {
        self.stats.depth.inc();
        self.actor.send(Ping).await.unwrap_or(Some(false))
    }

    /// Returns once the account's cached lists can no longer be found.
    pub async fn invalidate(&self, account_id: i64) {
        self.stats.depth.inc();
        if self.actor.send(Invalidate { account_id }).await.is_err() {
            tracing::error!("the cache actor is gone; lists may be stale");
        }
    }
}

enum Backend {
    Disabled,
    Memory(MemoryPages),
    Redis(RedisPages),
}

impl Actor for CacheActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
        if let Backend::Redis(redis) = &mut self.backend {
            redis.retry_at = Instant::now();
            self.probe(ctx);
        }
    }
}

impl CacheActor {
    fn new(
        cache: &CacheSettings,
        redis: &RedisSettings,
        stats: CacheStats,
    ) -> Result<Self, redis::RedisError> {
        let backend = if !cache.enabled {
            Backend::Disabled
        } else if redis.url.is_empty() {
            Backend::Memory(MemoryPages::new(cache))
        } else {
            Backend::Redis(RedisPages::new(cache, redis)?)
        };
        Ok(Self { backend, stats })
    }

    /// Takes a message out of the mailbox, for its figures.
    fn received(&self) {
        self.stats.actor.depth.dec();
        self.stats.actor.handled.inc();
    }

    fn count(&self, lookup: &Lookup) {
        match lookup {
            Lookup::Hit(_) => self.stats.hits.inc(),
            Lookup::Miss(_) => self.stats.misses.inc(),
            Lookup::Uncached => {}
        }
    }

    fn fallback(&self) -> Lookup {
        self.stats.fallbacks.inc();
        Lookup::Uncached
    }

    /// While Redis is down, at most one attempt per retry interval: replay the invalidations
    /// it missed, and only then trust it again.
    fn probe(&mut self, ctx: &mut Context<Self>) {
        let Backend::Redis(redis) = &mut self.backend else {
            return;
        };
        if redis.healthy || redis.probing || Instant::now() < redis.retry_at {
            return;
        }
        redis.probing = true;
        redis.retry_at = Instant::now() + redis.retry_interval;
        let missed: Vec<i64> = redis.missed_invalidations.iter().copied().collect();
        let connection = redis.connection.clone();
        let keys = redis.keys.clone();
        let replay = async move {
            let mut connection = connection;
            redis::cmd("PING")
                .query_async::<()>(&mut connection)
                .await?;
            for account_id in &missed {
                bump_version(&mut connection, &keys, *account_id).await?;
            }
            Ok::<_, redis::RedisError>(missed)
        };
        ctx.spawn(wrap_future::<_, Self>(replay).map(|outcome, actor, _| {
            let Backend::Redis(redis) = &mut actor.backend else {
                return;
            };
            redis.probing = false;
            match outcome {
                Ok(replayed) => {
                    for account_id in replayed {
                        redis.missed_invalidations.remove(&account_id);
                    }
                    if redis.missed_invalidations.is_empty() {
                        redis.healthy = true;
                        tracing::info!("Redis answers again; the list cache is back in use");
                    } else {
                        redis.retry_at = Instant::now();
                    }
                }
                Err(error) => tracing::debug!(%error, "Redis still unavailable"),
            }
        }));
    }
}

impl Handler<Find> for CacheActor {
    type Result = ResponseActFuture<Self, Lookup>;

    fn handle(&mut self, Find(key): Find, ctx: &mut Context<Self>) -> Self::Result {
        self.received();
        let redis = match &mut self.backend {
            Backend::Disabled => return Box::pin(ready(Lookup::Uncached)),
            Backend::Memory(pages) => {
                let lookup = pages.find(key);
                self.count(&lookup);
                return Box::pin(ready(lookup));
            }
            Backend::Redis(redis) => redis,
        };
        if !redis.healthy {
            let lookup = self.fallback();
            self.probe(ctx);
            return Box::pin(ready(lookup));
        }
        let find = find_in_redis(redis.connection.clone(), redis.keys.clone(), key);
        Box::pin(
            wrap_future::<_, Self>(find).map(|outcome, actor, _| match outcome {
                Ok(lookup) => {
                    actor.count(&lookup);
                    lookup
                }
                Err(error) => {
                    actor.redis_failed(&error);
                    actor.fallback()
                }
            }),
        )
    }
}

impl Handler<Ping> for CacheActor {
    type Result = ResponseActFuture<Self, Option<bool>>;

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> Self::Result {
        self.received();
        let Backend::Redis(redis) = &self.backend else {
            return Box::pin(ready(None));
        };
        let mut connection = redis.connection.clone();
        let ping = async move {
            redis::cmd("PING")
                .query_async::<()>(&mut connection)
                .await
                .is_ok()
        };
        Box::pin(wrap_future::<_, Self>(ping).map(|answered, _, _| Some(answered)))
    }
}

impl Handler<Keep> for CacheActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, keep: Keep, _: &mut Context<Self>) -> Self::Result {
        self.received();
        let redis = match &mut self.backend {
            Backend::Disabled => return Box::pin(ready(())),
            Backend::Memory(pages) => {
                pages.keep(keep);
                return Box::pin(ready(()));
            }
            Backend::Redis(redis) if redis.healthy => redis,
            Backend::Redis(_) => return Box::pin(ready(())),
        };
        let key = redis.keys.page(&keep.ticket);
        let ttl = redis.ttl_seconds;
        let mut connection = redis.connection.clone();
        let store = async move {
            connection
                .set_ex::<_, _, ()>(key, keep.page.to_vec(), ttl)
                .await
        };
        Box::pin(wrap_future::<_, Self>(store).map(|outcome, actor, _| {
            if let Err(error) = outcome {
                actor.redis_failed(&error);
            }
        }))
    }
}

impl Handler<Invalidate> for CacheActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(
        &mut self,
        Invalidate { account_id }: Invalidate,
        _: &mut Context<Self>,
    ) -> Self::Result {
        self.received();
        let redis = match &mut self.backend {
            Backend::Disabled => return Box::pin(ready(())),
            Backend::Memory(pages) => {
                pages.invalidate(account_id);
                return Box::pin(ready(()));
            }
            Backend::Redis(redis) => redis,
        };
        if !redis.healthy {
            redis.missed_invalidations.insert(account_id);
            return Box::pin(ready(()));
        }
        let mut connection = redis.connection.clone();
        let keys = redis.keys.clone();
        let bump = async move { bump_version(&mut connection, &keys, account_id).await };
        Box::pin(wrap_future::<_, Self>(bump).map(move |outcome, actor, _| {
            if let Err(error) = outcome {
                actor.redis_failed(&error);
                if let Backend::Redis(redis) = &mut actor.backend {
                    redis.missed_invalidations.insert(account_id);
                }
            }
        }))
    }
}

impl CacheActor {
    fn redis_failed(&mut self, error: &redis::RedisError) {
        let Backend::Redis(redis) = &mut self.backend else {
            return;
        };
        self.stats.actor.failures.inc();
        if redis.healthy {
            tracing::warn!(%error, "Redis unavailable; lists are served from the database");
            redis.healthy = false;
            redis.retry_at = Instant::now() + redis.retry_interval;
        }
    }
}

struct RedisPages {
    connection: ConnectionManager,
    keys: Keys,
    ttl_seconds: u64,
    retry_interval: Duration,
    healthy: bool,
    probing: bool,
    retry_at: Instant,
    /// Accounts written to while Redis was unreachable: replayed before Redis is trusted again.
    missed_invalidations: HashSet<i64>,
}

impl RedisPages {
    fn new(cache: &CacheSettings, settings: &RedisSettings) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(settings.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(settings.connect_timeout_ms)))
            .set_response_timeout(Some(Duration::from_millis(settings.command_timeout_ms)))
            .set_number_of_retries(1);
        Ok(Self {
            connection: ConnectionManager::new_lazy_with_config(client, config)?,
            keys: Keys {
                prefix: cache.key_prefix.clone(),
                version_ttl_seconds: cache.ttl_seconds * 2,
            },
            ttl_seconds: cache.ttl_seconds,
            retry_interval: Duration::from_millis(settings.retry_interval_ms),
            healthy: false,
            probing: false,
            retry_at: Instant::now(),
            missed_invalidations: HashSet::new(),
        })
    }
}

/// The Redis keys of the cache, under `cache.key_prefix`.
#[derive(Clone)]
struct Keys {
    prefix: String,
    /// Version keys expire too, after twice a page's lifetime: a lost version only means a
    /// fresh one, under which no old page exists.
    version_ttl_seconds: u64,
}

impl Keys {
    fn version(&self, account_id: i64) -> String {
        format!("{}:list-version:{account_id}", self.prefix)
    }

    fn page(&self, ticket: &Ticket) -> String {
        let PageKey { account_id, query } = &ticket.key;
        format!(
            "{}:list:{account_id}:{}:{query}",
            self.prefix, ticket.version
        )
    }
}

/// A version never used before, so a lost or evicted version key can never revive old pages.
fn fresh_version() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

async fn bump_version(
    connection: &mut ConnectionManager,
    keys: &Keys,
    account_id: i64,
) -> redis::RedisResult<()> {
    connection
        .set_ex(
            keys.version(account_id),
            fresh_version(),
            keys.version_ttl_seconds,
        )
        .await
}

async fn find_in_redis(
    mut connection: ConnectionManager,
    keys: Keys,
    key: PageKey,
) -> redis::RedisResult<Lookup> {
    let version_key = keys.version(key.account_id);
    let version = match connection.get::<_, Option<String>>(&version_key).await? {
        Some(version) => version,
        None => {
            redis::cmd("SET")
                .arg(&version_key)
                .arg(fresh_version())
                .arg("NX")
                .arg("EX")
                .arg(keys.version_ttl_seconds)
                .query_async::<()>(&mut connection)
                .await?;
            connection.get(&version_key).await?
        }
    };
    let ticket = Ticket { key, version };
    let page: Option<Vec<u8>> = connection.get(keys.page(&ticket)).await?;
    Ok(match page {
        Some(page) => Lookup::Hit(Bytes::from(page)),
        None => Lookup::Miss(ticket),
    })
}

/// The in-process cache: the same versioned keys, in a map.
struct MemoryPages {
    versions: HashMap<i64, u64>,
    pages: HashMap<(PageKey, u64), (Instant, Bytes)>,
    ttl: Duration,
    max_entries: usize,
}

impl MemoryPages {
    fn new(cache: &CacheSettings) -> Self {
        Self {
            versions: HashMap::new(),
            pages: HashMap::new(),
            ttl: Duration::from_secs(cache.ttl_seconds),
            max_entries: cache.memory_max_entries,
        }
    }

    fn version(&self, account_id: i64) -> u64 {
        self.versions.get(&account_id).copied().unwrap_or_default()
    }

    fn find(&mut self, key: PageKey) -> Lookup {
        let version = self.version(key.account_id);
        let entry = (key, version);
        match self.pages.get(&entry) {
            Some((expires, page)) if *expires > Instant::now() => Lookup::Hit(page.clone()),
            _ => Lookup::Miss(Ticket {
                key: entry.0,
                version: version.to_string(),
            }),
        }
    }

    fn keep(&mut self, Keep { ticket, page }: Keep) {
        let version = self.version(ticket.key.account_id);
        if ticket.version != version.to_string() || self.max_entries == 0 {
            return;
        }
        if self.pages.len() >= self.max_entries {
            let now = Instant::now();
            self.pages.retain(|_, (expires, _)| *expires > now);
            if self.pages.len() >= self.max_entries {
                self.pages.clear();
            }
        }
        let expires = Instant::now() + self.ttl;
        self.pages.insert((ticket.key, version), (expires, page));
    }

    fn invalidate(&mut self, account_id: i64) {
        *self.versions.entry(account_id).or_default() += 1;
        self.pages
            .retain(|(key, _), _| key.account_id != account_id);
    }
}
