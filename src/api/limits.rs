//! Rate limits per client IP (every call but the operators' endpoints) and per session, with
//! governor's keyed GCRA limiters: error 15, HTTP 429 and `Retry-After`, recovering by itself.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::config::LimitSettings;
use crate::domain::user::SessionHash;

pub struct RateLimits {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_session: DefaultKeyedRateLimiter<String>,
}

impl RateLimits {
    pub fn new(settings: &LimitSettings) -> Self {
        let positive = |n: u32| NonZeroU32::new(n).expect("validated as positive");
        let quota = Quota::per_second(positive(settings.requests_per_second))
            .allow_burst(positive(settings.burst));
        Self {
            by_ip: RateLimiter::keyed(quota),
            by_session: RateLimiter::keyed(quota),
        }
    }

    fn refused(wait: Duration) -> ApiError {
        ApiError::TooManyRequests {
            retry_after_seconds: wait.as_secs().max(1),
        }
    }

    pub fn check_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.by_ip.check_key(&ip).map_err(|not_until| {
            Self::refused(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    pub fn check_session(&self, hash: &SessionHash) -> Result<(), ApiError> {
        self.by_session
            .check_key(&hash.as_str().to_owned())
            .map_err(|not_until| {
                Self::refused(not_until.wait_time_from(DefaultClock::default().now()))
            })
    }

    /// Forgets clients that have been quiet long enough to be back at a full burst, so the
    /// limiters' memory follows the active clients, not all clients ever seen.
    pub fn forget_quiet_clients(&self) {
        self.by_ip.retain_recent();
        self.by_ip.shrink_to_fit();
        self.by_session.retain_recent();
        self.by_session.shrink_to_fit();
    }
}
