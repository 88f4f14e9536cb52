//! Accounts, rights and session keys.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A right a sub-user may hold; a master account holds them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Right {
    EmployeeUpdate,
}

impl Right {
    pub const ALL: [Right; 1] = [Right::EmployeeUpdate];

    pub fn name(self) -> &'static str {
        match self {
            Right::EmployeeUpdate => "employee_update",
        }
    }
}

impl FromStr for Right {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Right::ALL
            .into_iter()
            .find(|right| right.name() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Right::ALL.iter().map(|r| r.name()).collect();
                format!("unknown right {s:?} (known: {})", known.join(", "))
            })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rights(BTreeSet<Right>);

impl Rights {
    pub fn all() -> Self {
        Self(Right::ALL.into_iter().collect())
    }

    pub fn contains(&self, right: Right) -> bool {
        self.0.contains(&right)
    }

    /// Reads the stored, comma-separated form; names no longer known are dropped.
    pub fn from_stored(stored: &str) -> Self {
        Self(stored.split(',').filter_map(|n| n.parse().ok()).collect())
    }
}

impl FromStr for Rights {
    type Err = String;

    /// A comma-separated list such as `employee_update`; empty means none.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(Right::from_str)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.0.iter().map(|r| r.name()).collect();
        f.write_str(&names.join(","))
    }
}

/// A login name: 1 to 64 characters, no surrounding white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login(String);

impl Login {
    pub fn parse(login: &str) -> Result<Self, String> {
        if login.is_empty() || login.chars().count() > 64 || login.trim() != login {
            Err("a login is 1 to 64 characters without surrounding spaces".into())
        } else {
            Ok(Self(login.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: never logged, never shown by `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(password: &str) -> Result<Self, String> {
        if password.is_empty() || password.len() > 1024 {
            Err("a password is 1 to 1024 bytes".into())
        } else {
            Ok(Self(password.to_owned()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A session key: 32 hexadecimal digits, kept in lower case. `Debug` shows none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionHash(String);

impl SessionHash {
    pub fn parse(hash: &str) -> Option<Self> {
        (hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(hash.to_ascii_lowercase()))
    }

    pub fn generate() -> Self {
        Self(hex::encode(rand::random::<[u8; 16]>()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionHash(..)")
    }
}

/// Who is calling: the user, the master account whose employees it sees, and its rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub user_id: i64,
    pub account_id: i64,
    pub rights: Rights,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_parse_and_round_trip() {
        let rights: Rights = "employee_update".parse().unwrap();
        assert!(rights.contains(Right::EmployeeUpdate));
        assert_eq!(Rights::from_stored(&rights.to_string()), rights);
        assert!("".parse::<Rights>().unwrap() == Rights::default());
        assert!("tracker_nuke".parse::<Rights>().is_err());
    }

    #[test]
    fn session_hashes_are_32_hex_digits() {
        assert!(SessionHash::parse("22eac1c27af4be7b9d04da2ce1af111b").is_some());
        assert_eq!(
            SessionHash::parse("22EAC1C27AF4BE7B9D04DA2CE1AF111B")
                .unwrap()
                .as_str(),
            "22eac1c27af4be7b9d04da2ce1af111b"
        );
        assert!(SessionHash::parse("22eac1c27af4be7b9d04da2ce1af111").is_none());
        assert!(SessionHash::parse("zzeac1c27af4be7b9d04da2ce1af111b").is_none());
        assert_eq!(SessionHash::generate().as_str().len(), 32);
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let hash = SessionHash::generate();
        assert!(!format!("{hash:?}").contains(hash.as_str()));
        assert!(!format!("{:?}", Password::parse("hunter2").unwrap()).contains("hunter2"));
    }
}
