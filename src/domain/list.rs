//! The paging, sorting and filtering of `/employee/list`, parsed once at the edge.

use crate::api::error::ApiError;
use crate::api::params::Params;

/// The columns a list may be sorted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Id,
    TrackerId,
    FirstName,
    MiddleName,
    LastName,
    Email,
    Phone,
    DriverLicenseNumber,
    DriverLicenseCats,
    DriverLicenseIssueDate,
    DriverLicenseValidTill,
    HardwareKey,
    DepartmentId,
    PersonnelNumber,
}

/// The name of each sort key as clients write it.
const SORT_KEYS: [(&str, SortKey); 14] = [
    ("id", SortKey::Id),
    ("tracker_id", SortKey::TrackerId),
    ("first_name", SortKey::FirstName),
    ("middle_name", SortKey::MiddleName),
    ("last_name", SortKey::LastName),
    ("email", SortKey::Email),
    ("phone", SortKey::Phone),
    ("driver_license_number", SortKey::DriverLicenseNumber),
    ("driver_license_cats", SortKey::DriverLicenseCats),
    ("driver_license_issue_date", SortKey::DriverLicenseIssueDate),
    ("driver_license_valid_till", SortKey::DriverLicenseValidTill),
    ("hardware_key", SortKey::HardwareKey),
    ("department_id", SortKey::DepartmentId),
    ("personnel_number", SortKey::PersonnelNumber),
];

impl SortKey {
    fn from_name(name: &str) -> Option<Self> {
        SORT_KEYS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, key)| *key)
    }

    pub fn name(self) -> &'static str {
        SORT_KEYS
            .iter()
            .find(|(_, key)| *key == self)
            .map(|(name, _)| *name)
            .expect("every sort key has a name")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// A substring to look for in the text fields, at most 100 characters, never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Filter(String);

impl Filter {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ListQuery {
    pub limit: Option<u64>,
    pub offset: u64,
    pub sort: Vec<(SortKey, SortOrder)>,
    pub filter: Option<Filter>,
}

const MAX_SORT_KEYS: usize = 2;
const MAX_FILTER_CHARS: usize = 100;

impl ListQuery {
    /// A digest that is equal for equal queries, naming the query's page in the list cache.
    pub fn digest(&self) -> String {
        let mut canonical = format!("limit={:?};offset={};sort=", self.limit, self.offset);
        for (key, order) in &self.sort {
            let order = match order {
                SortOrder::Asc => "asc",
                SortOrder::Desc => "desc",
            };
            canonical.push_str(&format!("{}={order},", key.name()));
        }
        if let Some(filter) = &self.filter {
            canonical.push_str(";filter=");
            canonical.push_str(filter.as_str());
        }
        blake3::hash(canonical.as_bytes()).to_hex()[..32].to_owned()
    }

    pub fn parse(params: &Params) -> Result<Self, ApiError> {
        let limit = params.optional::<Option<i64>>("limit")?.flatten();
        let offset = params.optional::<Option<i64>>("offset")?.flatten();
        let limit = match limit {
            Some(l) if l < 0 => return Err(ApiError::invalid("limit", "must not be negative")),
            l => l.map(|l| l as u64),
        };
        let offset = match offset {
            Some(o) if o < 0 => return Err(ApiError::invalid("offset", "must not be negative")),
            o => o.unwrap_or(0) as u64,
        };
        Ok(Self {
            limit,
            offset,
            sort: parse_sort(params)?,
            filter: parse_filter(params)?,
        })
    }
}

fn parse_sort(params: &Params) -> Result<Vec<(SortKey, SortOrder)>, ApiError> {
    let items: Vec<String> = match params.optional::<serde_json::Value>("sort")? {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(serde_json::Value::String(single)) => vec![single],
        Some(_) => params.required::<Vec<String>>("sort")?,
    };
    if items.len() > MAX_SORT_KEYS {
        return Err(ApiError::invalid("sort", "at most two sort keys"));
    }
    items
        .iter()
        .map(|item| {
            let (name, order) = item.split_once('=').unwrap_or((item, "asc"));
            let key = SortKey::from_name(name.trim())
                .ok_or_else(|| ApiError::invalid("sort", format!("unknown sort key {name:?}")))?;
            let order = match order.trim().to_ascii_lowercase().as_str() {
                "asc" => SortOrder::Asc,
                "desc" => SortOrder::Desc,
                _ => return Err(ApiError::invalid("sort", "order must be asc or desc")),
            };
            Ok((key, order))
        })
        .collect()
}

fn parse_filter(params: &Params) -> Result<Option<Filter>, ApiError> {
    match params.optional_text("filter")? {
        Some(text) if text.chars().count() > MAX_FILTER_CHARS => Err(ApiError::invalid(
            "filter",
            format!("must be at most {MAX_FILTER_CHARS} characters"),
        )),
        Some(text) if !text.is_empty() => Ok(Some(Filter(text))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<ListQuery, ApiError> {
        ListQuery::parse(&Params::from_query(query).unwrap())
    }

    #[test]
    fn sort_as_array_or_single_string() {
        let q = parse("sort=%5B%22last_name%3Ddesc%22%2C%22id%22%5D").unwrap();
        assert_eq!(
            q.sort,
            vec![
                (SortKey::LastName, SortOrder::Desc),
                (SortKey::Id, SortOrder::Asc)
            ]
        );
        let q = parse("sort=first_name%3Dasc").unwrap();
        assert_eq!(q.sort, vec![(SortKey::FirstName, SortOrder::Asc)]);
    }

    #[test]
    fn bad_sort_keys_are_error_7() {
        for query in [
            "sort=password",
            "sort=first_name%3Dsideways",
            "sort=%5B%22id%22%2C%22email%22%2C%22phone%22%5D",
            "sort=id;DROP%20TABLE%20employees",
        ] {
            assert!(
                matches!(parse(query), Err(ApiError::InvalidParameters(_))),
                "{query}"
            );
        }
    }

    #[test]
    fn equal_queries_share_a_digest() {
        let a = parse("sort=first_name&limit=5").unwrap();
        let b = parse("limit=5&sort=%5B%22first_name%3Dasc%22%5D").unwrap();
        let c = parse("limit=5&sort=first_name%3Ddesc").unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
        assert_ne!(
            parse("").unwrap().digest(),
            parse("filter=x").unwrap().digest()
        );
    }

    #[test]
    fn paging_and_filter() {
        let q = parse("limit=10&offset=20&filter=smith").unwrap();
        assert_eq!((q.limit, q.offset), (Some(10), 20));
        assert_eq!(q.filter.unwrap().as_str(), "smith");
        assert!(parse("limit=-1").is_err());
        assert!(parse("limit=ten").is_err());
        assert!(parse(&format!("filter={}", "x".repeat(101))).is_err());
    }
}
