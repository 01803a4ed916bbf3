//! `arguments::parse_username` on arbitrary text, and on JSON objects built
//! from arbitrary fields.

use arbitrary::Arbitrary;
use get_totp_code::arguments::{ArgumentsError, parse_username};
use serde_json::{Map, Value};

#[derive(Arbitrary, Debug)]
pub enum Field {
    Username(Option<String>),
    UsernameNumber(i64),
    UsernameList(Vec<String>),
    Other(String, String),
}

#[derive(Arbitrary, Debug)]
pub enum Input<'a> {
    Text(&'a str),
    Object {
        fields: Vec<Field>,
        pretty: bool,
        padding: bool,
    },
}

/// The specification, from serde_json's own `Value`.
fn reference(arguments: &str) -> Result<String, ()> {
    // Blank means JSON whitespace only (the reader's definition since it
    // replaced serde_json; `str::trim` would also skip e.g. U+000B, U+00A0).
    if arguments.trim_matches([' ', '\t', '\n', '\r']).is_empty() {
        return Ok(String::new());
    }
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(arguments) else {
        return Err(());
    };
    let mut username = String::new();
    for (name, value) in fields {
        match (name.as_str(), value) {
            ("username", Value::String(text)) => username = text,
            ("username", Value::Null) => {}
            _ => return Err(()),
        }
    }
    Ok(username)
}

fn check(arguments: &str) -> Result<String, ArgumentsError> {
    let got = parse_username(arguments);
    assert_eq!(
        got.clone().map_err(|_| ()),
        reference(arguments),
        "{arguments:?}"
    );
    if let Err(error) = &got {
        // Messages quote at most a 40-character argument name.
        let message = error.to_string();
        assert!(message.chars().count() <= 100, "{message}");
        if let ArgumentsError::UnknownArgument(name) = error {
            assert!(name.chars().count() <= 41, "{name:?}");
        }
    }
    got
}

/// The target's body: every check on one input.
pub fn run(input: Input<'_>) {
    match input {
        Input::Text(text) => {
            let _ = check(text);
        }
        Input::Object {
            fields,
            pretty,
            padding,
        } => {
            let mut object = Map::new();
            for field in fields {
                let (name, value) = match field {
                    Field::Username(name) => (
                        "username".to_owned(),
                        name.map_or(Value::Null, Value::String),
                    ),
                    Field::UsernameNumber(n) => ("username".to_owned(), Value::from(n)),
                    Field::UsernameList(list) => ("username".to_owned(), Value::from(list)),
                    Field::Other(name, value) => (name, Value::String(value)),
                };
                object.insert(name, value);
            }
            let expected = match object.get("username") {
                _ if object.keys().any(|k| k != "username") => None,
                None | Some(Value::Null) => Some(String::new()),
                Some(Value::String(name)) => Some(name.clone()),
                Some(_) => None,
            };
            let value = Value::Object(object);
            let mut text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            if padding {
                text = format!(" \n\t{text}\r\n ");
            }
            let got = check(&text);
            assert_eq!(got.ok(), expected, "{text:?}");
        }
    }
}
