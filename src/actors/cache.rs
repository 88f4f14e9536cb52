//! `CacheActor`: the employee-list cache. Pages live in Redis (or, without `redis.url`, in the
//! process) under a key that carries the account's current version; a committed write replaces
//! the version before it is answered, so a page computed before the write is never found again.
//! When Redis fails, lists come from the database: nothing fails, a counter counts it, and
//! Redis is used again once it answers and has heard of every write made meanwhile.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::fut::{ready, wrap_future};
use actix::{Actor, ActorFutureExt, AsyncContext, Context, Handler, Message, ResponseActFuture};
use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use crate::config::{CacheSettings, RedisSettings};

/// Live figures of the cache, shared with whoever reports them.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    /// Lists served from the database because Redis was unavailable.
    pub fallbacks: AtomicU64,
    pub invalidations: AtomicU64,
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
pub struct Find(pub PageKey);

impl Message for Find {
    type Result = Lookup;
}

/// Keep a page computed after a `Find` that missed.
pub struct Keep {
    pub ticket: Ticket,
    pub page: Bytes,
}

impl Message for Keep {
    type Result = ();
}

/// Forget every page of an account: sent after a committed write, awaited before answering it.
pub struct Invalidate {
    pub account_id: i64,
}

impl Message for Invalidate {
    type Result = ();
}

pub struct CacheActor {
    backend: Backend,
    stats: Arc<CacheStats>,
}

enum Backend {
    Disabled,
    Memory(MemoryPages),
    Redis(RedisPages),
}

impl Actor for CacheActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Backend::Redis(redis) = &mut self.backend {
            redis.retry_at = Instant::now();
            self.probe(ctx);
        }
    }
}

impl CacheActor {
    pub fn new(cache: &CacheSettings, redis: &RedisSettings) -> Result<Self, redis::RedisError> {
        let backend = if !cache.enabled {
            Backend::Disabled
        } else if redis.url.is_empty() {
            Backend::Memory(MemoryPages::new(cache))
        } else {
            Backend::Redis(RedisPages::new(cache, redis)?)
        };
        Ok(Self {
            backend,
            stats: Arc::default(),
        })
    }

    pub fn stats(&self) -> Arc<CacheStats> {
        self.stats.clone()
    }

    fn count(&self, lookup: &Lookup) {
        let counter = match lookup {
            Lookup::Hit(_) => &self.stats.hits,
            Lookup::Miss(_) => &self.stats.misses,
            Lookup::Uncached => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn fallback(&self) -> Lookup {
        self.stats.fallbacks.fetch_add(1, Ordering::Relaxed);
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
        let prefix = redis.prefix.clone();
        let replay = async move {
            let mut connection = connection;
            redis::cmd("PING")
                .query_async::<()>(&mut connection)
                .await?;
            for account_id in &missed {
                bump_version(&mut connection, &prefix, *account_id).await?;
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
        let find = find_in_redis(redis.connection.clone(), redis.prefix.clone(), key);
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

impl Handler<Keep> for CacheActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, keep: Keep, _: &mut Context<Self>) -> Self::Result {
        let redis = match &mut self.backend {
            Backend::Disabled => return Box::pin(ready(())),
            Backend::Memory(pages) => {
                pages.keep(keep);
                return Box::pin(ready(()));
            }
            Backend::Redis(redis) if redis.healthy => redis,
            Backend::Redis(_) => return Box::pin(ready(())),
        };
        let key = page_key(&redis.prefix, &keep.ticket);
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
        self.stats.invalidations.fetch_add(1, Ordering::Relaxed);
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
        let prefix = redis.prefix.clone();
        let bump = async move { bump_version(&mut connection, &prefix, account_id).await };
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
        if redis.healthy {
            tracing::warn!(%error, "Redis unavailable; lists are served from the database");
            redis.healthy = false;
            redis.retry_at = Instant::now() + redis.retry_interval;
        }
    }
}

struct RedisPages {
    connection: ConnectionManager,
    prefix: String,
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
            prefix: cache.key_prefix.clone(),
            ttl_seconds: cache.ttl_seconds,
            retry_interval: Duration::from_millis(settings.retry_interval_ms),
            healthy: false,
            probing: false,
            retry_at: Instant::now(),
            missed_invalidations: HashSet::new(),
        })
    }
}

fn version_key(prefix: &str, account_id: i64) -> String {
    format!("{prefix}:list-version:{account_id}")
}

fn page_key(prefix: &str, ticket: &Ticket) -> String {
    let PageKey { account_id, query } = &ticket.key;
    format!("{prefix}:list:{account_id}:{}:{query}", ticket.version)
}

/// A version never used before, so a lost or evicted version key can never revive old pages.
fn fresh_version() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

async fn bump_version(
    connection: &mut ConnectionManager,
    prefix: &str,
    account_id: i64,
) -> redis::RedisResult<()> {
    connection
        .set(version_key(prefix, account_id), fresh_version())
        .await
}

async fn find_in_redis(
    mut connection: ConnectionManager,
    prefix: String,
    key: PageKey,
) -> redis::RedisResult<Lookup> {
    let version_key = version_key(&prefix, key.account_id);
    let version = match connection.get::<_, Option<String>>(&version_key).await? {
        Some(version) => version,
        None => {
            let _: bool = connection.set_nx(&version_key, fresh_version()).await?;
            connection.get(&version_key).await?
        }
    };
    let ticket = Ticket { key, version };
    let page: Option<Vec<u8>> = connection.get(page_key(&prefix, &ticket)).await?;
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
