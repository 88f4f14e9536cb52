//! The employee as the API knows it: typed fields whose constructors enforce the rules of
//! API.md section 4, so nothing behind the edge checks them again.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::error::{ApiError, ParamError};

/// The id of an employee as a client names it; whether it exists (for this account) is the
/// repository's question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmployeeId(i64);

impl EmployeeId {
    pub fn parse(parameter: &str, value: i64) -> Result<Self, ApiError> {
        if value > 0 {
            Ok(Self(value))
        } else {
            Err(ApiError::invalid(parameter, "must be a positive integer"))
        }
    }

    pub fn from_stored(value: i64) -> Self {
        Self(value)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    pub lat: f64,
    pub lng: f64,
    pub address: String,
    pub radius: i64,
}

/// Every field a client may write; a value of this type obeys every field rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EmployeeData {
    pub tracker_id: Option<i64>,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub driver_license_number: String,
    pub driver_license_cats: String,
    pub driver_license_issue_date: Option<NaiveDate>,
    pub driver_license_valid_till: Option<NaiveDate>,
    pub hardware_key: Option<String>,
    pub department_id: Option<i64>,
    pub location: Option<Location>,
    pub personnel_number: Option<String>,
    pub ssn: Option<String>,
    pub tags: Vec<i64>,
}

/// An employee as `list` and `read` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Employee {
    pub id: EmployeeId,
    #[serde(flatten)]
    pub data: EmployeeData,
    pub icon_id: Option<i64>,
    pub avatar_file_name: Option<String>,
}

/// One validated field of a create or update request.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldChange {
    TrackerId(Option<i64>),
    FirstName(String),
    MiddleName(String),
    LastName(String),
    Email(String),
    Phone(String),
    DriverLicenseNumber(String),
    DriverLicenseCats(String),
    DriverLicenseIssueDate(Option<NaiveDate>),
    DriverLicenseValidTill(Option<NaiveDate>),
    HardwareKey(Option<String>),
    DepartmentId(Option<i64>),
    Location(Option<Location>),
    PersonnelNumber(Option<String>),
    Ssn(Option<String>),
    Tags(Vec<i64>),
}

impl EmployeeData {
    /// Every field as a change, so that writing a whole employee and writing some fields of one
    /// are the same code.
    pub fn into_changes(self) -> Vec<FieldChange> {
        use FieldChange::*;
        vec![
            TrackerId(self.tracker_id),
            FirstName(self.first_name),
            MiddleName(self.middle_name),
            LastName(self.last_name),
            Email(self.email),
            Phone(self.phone),
            DriverLicenseNumber(self.driver_license_number),
            DriverLicenseCats(self.driver_license_cats),
            DriverLicenseIssueDate(self.driver_license_issue_date),
            DriverLicenseValidTill(self.driver_license_valid_till),
            HardwareKey(self.hardware_key),
            DepartmentId(self.department_id),
            Location(self.location),
            PersonnelNumber(self.personnel_number),
            Ssn(self.ssn),
            Tags(self.tags),
        ]
    }

    pub fn apply(&mut self, change: FieldChange) {
        use FieldChange::*;
        match change {
            TrackerId(v) => self.tracker_id = v,
            FirstName(v) => self.first_name = v,
            MiddleName(v) => self.middle_name = v,
            LastName(v) => self.last_name = v,
            Email(v) => self.email = v,
            Phone(v) => self.phone = v,
            DriverLicenseNumber(v) => self.driver_license_number = v,
            DriverLicenseCats(v) => self.driver_license_cats = v,
            DriverLicenseIssueDate(v) => self.driver_license_issue_date = v,
            DriverLicenseValidTill(v) => self.driver_license_valid_till = v,
            HardwareKey(v) => self.hardware_key = v,
            DepartmentId(v) => self.department_id = v,
            Location(v) => self.location = v,
            PersonnelNumber(v) => self.personnel_number = v,
            Ssn(v) => self.ssn = v,
            Tags(v) => self.tags = v,
        }
    }
}

/// The fields present in a request's `employee` object, each checked; unknown fields, `id` and
/// the avatar fields (changed only by the avatar calls) are left out.
#[derive(Debug, Clone, PartialEq)]
pub struct EmployeeChanges(Vec<FieldChange>);

impl EmployeeChanges {
    fn parse(object: &Map<String, Value>) -> Result<Self, Vec<ParamError>> {
        let mut changes = Vec::new();
        let mut errors = Vec::new();
        for (name, value) in object {
            match parse_field(name, value) {
                None => {}
                Some(Ok(change)) => changes.push(change),
                Some(Err(error)) => errors.push(ParamError::new(format!("employee.{name}"), error)),
            }
        }
        if errors.is_empty() {
            Ok(Self(changes))
        } else {
            Err(errors)
        }
    }

    pub fn apply_to(self, data: &mut EmployeeData) {
        for change in self.0 {
            data.apply(change);
        }
    }

    pub fn into_vec(self) -> Vec<FieldChange> {
        self.0
    }
}

/// A whole new employee: left-out fields take their empty values.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEmployee(pub EmployeeData);

impl NewEmployee {
    pub fn parse(value: &Value) -> Result<Self, ApiError> {
        let object = employee_object(value)?;
        let mut errors = Vec::new();
        if !object.contains_key("first_name") {
            errors.push(ParamError::new("employee.first_name", "is required"));
        }
        let changes = match EmployeeChanges::parse(object) {
            Ok(changes) if errors.is_empty() => changes,
            Ok(_) => return Err(ApiError::InvalidParameters(errors)),
            Err(mut found) => {
                errors.append(&mut found);
                return Err(ApiError::InvalidParameters(errors));
            }
        };
        let mut data = EmployeeData::default();
        changes.apply_to(&mut data);
        Ok(Self(data))
    }
}

/// An update: the employee's id and the fields that replace stored ones.
#[derive(Debug, Clone, PartialEq)]
pub struct EmployeeUpdate {
    pub id: EmployeeId,
    pub changes: EmployeeChanges,
}

impl EmployeeUpdate {
    pub fn parse(value: &Value) -> Result<Self, ApiError> {
        let object = employee_object(value)?;
        let id = match object.get("id") {
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| ApiError::invalid("employee.id", "must be an integer"))
                .and_then(|id| EmployeeId::parse("employee.id", id)),
            Some(_) => Err(ApiError::invalid("employee.id", "must be an integer")),
            None => Err(ApiError::invalid("employee.id", "is required")),
        }?;
        let changes = EmployeeChanges::parse(object).map_err(ApiError::InvalidParameters)?;
        Ok(Self { id, changes })
    }
}

fn employee_object(value: &Value) -> Result<&Map<String, Value>, ApiError> {
    value
        .as_object()
        .ok_or_else(|| ApiError::invalid("employee", "must be an object"))
}

type FieldResult<T> = Result<T, String>;

fn parse_field(name: &str, value: &Value) -> Option<FieldResult<FieldChange>> {
    use FieldChange::*;
    Some(match name {
        "tracker_id" => optional_int(value).map(TrackerId),
        "first_name" => first_name(value).map(FirstName),
        "middle_name" => text(value, 100).map(MiddleName),
        "last_name" => text(value, 100).map(LastName),
        "email" => email(value).map(Email),
        "phone" => phone(value).map(Phone),
        "driver_license_number" => text(value, 32).map(DriverLicenseNumber),
        "driver_license_cats" => text(value, 32).map(DriverLicenseCats),
        "driver_license_issue_date" => optional_date(value).map(DriverLicenseIssueDate),
        "driver_license_valid_till" => optional_date(value).map(DriverLicenseValidTill),
        "hardware_key" => optional_text(value, 64).map(HardwareKey),
        "department_id" => optional_int(value).map(DepartmentId),
        "location" => location(value).map(Location),
        "personnel_number" => optional_text(value, 15).map(PersonnelNumber),
        "ssn" => optional_text(value, 32).map(Ssn),
        "tags" => tags(value).map(Tags),
        _ => return None,
    })
}

fn int(value: &Value) -> FieldResult<i64> {
    value.as_i64().ok_or_else(|| "must be an integer".into())
}

fn optional_int(value: &Value) -> FieldResult<Option<i64>> {
    match value {
        Value::Null => Ok(None),
        other => int(other).map(Some),
    }
}

/// A string of at most `max` characters; `null` stands for the empty string.
fn text(value: &Value, max: usize) -> FieldResult<String> {
    match value {
        Value::Null => Ok(String::new()),
        Value::String(s) if s.chars().count() <= max => Ok(s.clone()),
        Value::String(_) => Err(format!("must be at most {max} characters")),
        _ => Err("must be a string".into()),
    }
}

fn optional_text(value: &Value, max: usize) -> FieldResult<Option<String>> {
    match value {
        Value::Null => Ok(None),
        other => text(other, max).map(Some),
    }
}

fn first_name(value: &Value) -> FieldResult<String> {
    match value {
        Value::String(s) if s.trim().is_empty() => Err("must not be empty".into()),
        Value::String(_) => text(value, 100),
        _ => Err("must be a string".into()),
    }
}

fn email(value: &Value) -> FieldResult<String> {
    let address = text(value, 100)?;
    if address.is_empty() || is_email_address(&address) {
        Ok(address)
    } else {
        Err("must be empty or a valid email address".into())
    }
}

fn is_email_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let labels_ok = domain.split('.').count() >= 2
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    !local.is_empty()
        && labels_ok
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c))
        && !domain.contains('@')
}

fn phone(value: &Value) -> FieldResult<String> {
    let phone = text(value, 32)?;
    if phone.chars().all(|c| c.is_ascii_digit()) {
        Ok(phone)
    } else {
        Err("must contain digits only, without +".into())
    }
}

fn optional_date(value: &Value) -> FieldResult<Option<NaiveDate>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .filter(|_| s.len() == 10)
            .map(Some)
            .ok_or_else(|| "must be a date yyyy-MM-dd".into()),
        _ => Err("must be a date yyyy-MM-dd or null".into()),
    }
}

fn location(value: &Value) -> FieldResult<Option<Location>> {
    let object = match value {
        Value::Null => return Ok(None),
        Value::Object(object) => object,
        _ => return Err("must be an object {lat, lng, address, radius} or null".into()),
    };
    let coordinate = |key: &str, limit: f64| -> FieldResult<f64> {
        match object.get(key).and_then(Value::as_f64) {
            Some(v) if (-limit..=limit).contains(&v) => Ok(v),
            Some(_) => Err(format!("{key} must be between -{limit} and {limit}")),
            None => Err(format!("{key} is required and must be a number")),
        }
    };
    let address = match object.get("address") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) if s.chars().count() <= 255 => s.clone(),
        Some(_) => return Err("address must be a string of at most 255 characters".into()),
    };
    let radius = match object.get("radius") {
        None | Some(Value::Null) => 0,
        Some(v) => match v.as_i64() {
            Some(r) if r >= 0 => r,
            _ => return Err("radius must be a non-negative integer".into()),
        },
    };
    Ok(Some(Location {
        lat: coordinate("lat", 90.0)?,
        lng: coordinate("lng", 180.0)?,
        address,
        radius,
    }))
}

fn tags(value: &Value) -> FieldResult<Vec<i64>> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_i64()
                    .ok_or_else(|| "must be an array of integers".into())
            })
            .collect(),
        _ => Err("must be an array of integers".into()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn invalid_parameters(err: ApiError) -> Vec<String> {
        match err {
            ApiError::InvalidParameters(errors) => {
                errors.into_iter().map(|e| e.parameter).collect()
            }
            other => panic!("expected error 7, got {other:?}"),
        }
    }

    #[test]
    fn first_name_alone_is_a_whole_employee() {
        let NewEmployee(data) = NewEmployee::parse(&json!({"first_name": "Ann"})).unwrap();
        assert_eq!(data.first_name, "Ann");
        assert_eq!(data.last_name, "");
        assert_eq!(data.tracker_id, None);
        assert!(data.tags.is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let err = NewEmployee::parse(&json!({
            "first_name": "",
            "email": "not-an-address",
            "phone": "+123",
            "driver_license_issue_date": "2024-13-01",
            "personnel_number": "1234567890123456",
            "location": {"lat": 91, "lng": 0},
            "tags": [1, "x"],
            "tracker_id": "7",
        }))
        .unwrap_err();
        let mut names = invalid_parameters(err);
        names.sort();
        assert_eq!(
            names,
            [
                "employee.driver_license_issue_date",
                "employee.email",
                "employee.first_name",
                "employee.location",
                "employee.personnel_number",
                "employee.phone",
                "employee.tags",
                "employee.tracker_id",
            ]
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let hundred = "ж".repeat(100);
        assert!(NewEmployee::parse(&json!({"first_name": hundred})).is_ok());
        let err = NewEmployee::parse(&json!({"first_name": "ж".repeat(101)})).unwrap_err();
        assert_eq!(invalid_parameters(err), ["employee.first_name"]);
    }

    #[test]
    fn missing_first_name_is_required() {
        let err = NewEmployee::parse(&json!({"last_name": "Smith"})).unwrap_err();
        assert_eq!(invalid_parameters(err), ["employee.first_name"]);
    }

    #[test]
    fn email_shapes() {
        for good in ["", "a@b.co", "first.last+tag@example.org"] {
            assert!(email(&json!(good)).is_ok(), "{good}");
        }
        for bad in ["a@b", "@b.co", "a b@c.de", "a@@b.co", "a@.b.co", "a@b..co"] {
            assert!(email(&json!(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn update_needs_an_id_and_ignores_avatar_fields() {
        let err = EmployeeUpdate::parse(&json!({"first_name": "Ann"})).unwrap_err();
        assert_eq!(invalid_parameters(err), ["employee.id"]);
        let update = EmployeeUpdate::parse(&json!({
            "id": 5, "icon_id": 3, "avatar_file_name": "x.jpg", "last_name": null
        }))
        .unwrap();
        assert_eq!(update.id.get(), 5);
        assert_eq!(update.changes.0, vec![FieldChange::LastName(String::new())]);
    }

    #[test]
    fn location_and_dates_parse() {
        let NewEmployee(data) = NewEmployee::parse(&json!({
            "first_name": "Ann",
            "location": {"lat": 52.5, "lng": -13.4, "address": "Main St", "radius": 150},
            "driver_license_valid_till": "2030-01-31",
        }))
        .unwrap();
        assert_eq!(data.location.unwrap().radius, 150);
        assert_eq!(
            data.driver_license_valid_till,
            NaiveDate::from_ymd_opt(2030, 1, 31)
        );
    }
}
