//! A cached access token, refreshed before it expires, fetched by one caller
//! at a time: concurrent callers wait for that one fetch instead of each
//! asking the token endpoint.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::AuthError;
use crate::databricks::secret::Secret;

/// A token just obtained from a token endpoint.
#[derive(Debug, Clone)]
pub struct FreshToken {
    pub access_token: Secret,
    pub expires_in: Duration,
}

#[derive(Debug)]
struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// Holds one access token. Single-flight: the lock is held across the fetch.
#[derive(Debug, Default)]
pub struct TokenCache {
    slot: Mutex<Option<Cached>>,
    fetches: AtomicU64,
}

/// How long before expiry a token is replaced: 40 s for long-lived tokens
/// (as the Databricks SDKs do), a quarter of the lifetime for short ones.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(Duration::from_secs(40))
}

impl TokenCache {
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    /// The cached token if it is still fresh, else the result of `fetch`.
    pub async fn get_or_fetch<F, Fut>(&self, fetch: F) -> Result<Secret, AuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<FreshToken, AuthError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fresh = fetch().await?;
        let refresh_at = Instant::now() + fresh.expires_in - refresh_margin(fresh.expires_in);
        *slot = Some(Cached {
            token: fresh.access_token.clone(),
            refresh_at,
        });
        Ok(fresh.access_token)
    }

    /// Forgets `stale` (a token the server just refused), unless another
    /// caller has already replaced it.
    pub async fn invalidate(&self, stale: &Secret) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| &c.token == stale) {
            *slot = None;
        }
    }

    /// How many times a token was requested from the endpoint.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn fresh(value: &str, secs: u64) -> FreshToken {
        FreshToken {
            access_token: Secret::new(value),
            expires_in: Duration::from_secs(secs),
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(TokenCache::new());
        let calls = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let cache = cache.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch(|| async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(fresh("t1", 3600))
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("join").expect("token").expose(), "t1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.fetches(), 1);
    }

    #[tokio::test]
    async fn token_is_replaced_before_it_expires() {
        // A one-hour token is replaced 40 s early, a 100 s one 25 s early.
        assert_eq!(
            refresh_margin(Duration::from_secs(3600)),
            Duration::from_secs(40)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(100)),
            Duration::from_secs(25)
        );
        let cache = TokenCache::new();
        // A token already at its refresh point is not handed out again.
        let t = cache
            .get_or_fetch(|| async { Ok(fresh("a", 0)) })
            .await
            .expect("a");
        assert_eq!(t.expose(), "a");
        let t = cache
            .get_or_fetch(|| async { Ok(fresh("b", 3600)) })
            .await
            .expect("b");
        assert_eq!(t.expose(), "b");
        let t = cache
            .get_or_fetch(|| async { Ok(fresh("c", 3600)) })
            .await
            .expect("b");
        assert_eq!(t.expose(), "b");
        assert_eq!(cache.fetches(), 2);
    }

    #[tokio::test]
    async fn a_refused_token_is_forgotten_once() {
        let cache = TokenCache::new();
        let a = cache
            .get_or_fetch(|| async { Ok(fresh("a", 3600)) })
            .await
            .expect("a");
        cache.invalidate(&Secret::new("other")).await;
        let still = cache
            .get_or_fetch(|| async { Ok(fresh("b", 3600)) })
            .await
            .expect("a");
        assert_eq!(still.expose(), "a");
        cache.invalidate(&a).await;
        let b = cache
            .get_or_fetch(|| async { Ok(fresh("b", 3600)) })
            .await
            .expect("b");
        assert_eq!(b.expose(), "b");
    }
}
