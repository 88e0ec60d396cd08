//! Opaque list cursors: a page's last key, as base64url JSON, checked on the way back in.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::StoreError;

/// Encodes a `LastEvaluatedKey` whose attributes are all strings.
pub fn encode(key: &HashMap<String, AttributeValue>) -> Result<String, StoreError> {
    let plain: BTreeMap<&str, &str> = key
        .iter()
        .map(|(k, v)| v.as_s().map(|s| (k.as_str(), s.as_str())))
        .collect::<Result<_, _>>()
        .map_err(|_| StoreError::Failed("a list key holds a non-string attribute".into()))?;
    let json = serde_json::to_vec(&plain).map_err(|e| StoreError::Failed(Box::new(e)))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Decodes a cursor into an `ExclusiveStartKey`, refusing one whose `fixed` attributes differ
/// (a cursor of another list) or whose attributes are not exactly `names`.
pub fn decode(
    cursor: &str,
    names: &[&str],
    fixed: &[(&str, &str)],
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::BadCursor)?;
    let plain: BTreeMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::BadCursor)?;
    let same_names = plain.len() == names.len() && names.iter().all(|n| plain.contains_key(*n));
    let same_list = fixed
        .iter()
        .all(|(k, v)| plain.get(*k).map(String::as_str) == Some(*v));
    if !same_names || !same_list {
        return Err(StoreError::BadCursor);
    }
    Ok(plain
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(pairs: &[(&str, &str)]) -> HashMap<String, AttributeValue> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
            .collect()
    }

    #[test]
    fn a_cursor_round_trips() {
        let last = key(&[
            ("PK", "EVENT#1"),
            ("SK", "EVENT"),
            ("GSI1PK", "EVENTS"),
            ("GSI1SK", "EVENT#1"),
        ]);
        let cursor = encode(&last).unwrap();
        let back = decode(
            &cursor,
            &["PK", "SK", "GSI1PK", "GSI1SK"],
            &[("GSI1PK", "EVENTS")],
        )
        .unwrap();
        assert_eq!(back, last);
    }

    #[test]
    fn a_forged_or_foreign_cursor_is_refused() {
        let names = ["PK", "SK", "GSI1PK", "GSI1SK"];
        let other = key(&[
            ("PK", "x"),
            ("SK", "y"),
            ("GSI1PK", "OTHER"),
            ("GSI1SK", "z"),
        ]);
        let foreign = encode(&other).unwrap();
        assert!(matches!(
            decode(&foreign, &names, &[("GSI1PK", "EVENTS")]),
            Err(StoreError::BadCursor)
        ));
        let short = encode(&key(&[("PK", "x")])).unwrap();
        assert!(matches!(
            decode(&short, &names, &[]),
            Err(StoreError::BadCursor)
        ));
        assert!(matches!(
            decode("!!!", &names, &[]),
            Err(StoreError::BadCursor)
        ));
        assert!(matches!(
            decode("bm90IGpzb24", &names, &[]),
            Err(StoreError::BadCursor)
        ));
    }
}
