//! Arrow values to JSON values, for the Parquet import.
//!
//! Written here rather than taken from `arrow-json` to keep the dependency tree (and build time)
//! small and to control exactly how each type looks to a template: NaN becomes `null` (pandas
//! writes missing floats as NaN), decimals become strings (no silent precision loss), dates
//! become `YYYY-MM-DD` and timestamps RFC 3339 text.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Decimal256Type, Float16Type, Float32Type, Float64Type,
    Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use serde_json::{Map, Number, Value};

/// Checks up front, from the schema alone, that [`to_json`] can convert every value of a type,
/// so an unsupported column is one clear error instead of one per row.
pub(crate) fn check_type(dt: &DataType) -> Result<(), String> {
    match dt {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Decimal128(..)
        | DataType::Decimal256(..)
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(..) => Ok(()),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            check_type(f.data_type())
        }
        DataType::Struct(fields) => fields.iter().try_for_each(|f| {
            check_type(f.data_type()).map_err(|e| format!("in field \"{}\": {e}", f.name()))
        }),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                if !is_string(kv[0].data_type()) {
                    return Err(format!(
                        "map keys must be strings to become a JSON object, found {}",
                        kv[0].data_type()
                    ));
                }
                check_type(kv[1].data_type())
            }
            other => Err(format!("unexpected map layout {other}")),
        },
        DataType::Dictionary(k, v) if k.is_dictionary_key_type() => check_type(v),
        other => Err(format!(
            "type {other} is not supported; use strings, numbers, booleans, lists, structs, \
             dates or timestamps"
        )),
    }
}

pub(crate) fn is_string(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) || matches!(dt, DataType::Dictionary(_, v) if is_string(v))
}

pub(crate) fn is_integer(dt: &DataType) -> bool {
    dt.is_integer() || matches!(dt, DataType::Dictionary(_, v) if is_integer(v))
}

fn float(v: f64) -> Value {
    // NaN and infinities have no JSON form; pandas uses NaN for "missing".
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// The string at row `i` of a string-typed array (see [`is_string`]); `None` when null.
pub(crate) fn string_at(array: &dyn Array, i: usize) -> Option<&str> {
    if array.is_null(i) {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(i)),
        DataType::Utf8View => Some(array.as_string_view().value(i)),
        DataType::Dictionary(..) => {
            let dict = array.as_any_dictionary();
            let k = dict_index(dict.keys(), i).filter(|&k| k < dict.values().len())?;
            string_at(dict.values().as_ref(), k)
        }
        _ => None,
    }
}

/// The integer at row `i` of an integer-typed array (see [`is_integer`]): `Ok(None)` when null,
/// `Err` when it does not fit an `i64`.
pub(crate) fn integer_at(array: &dyn Array, i: usize) -> Result<Option<i64>, u64> {
    if array.is_null(i) {
        return Ok(None);
    }
    Ok(Some(match array.data_type() {
        DataType::Int8 => array.as_primitive::<Int8Type>().value(i).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(i).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(i).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(i).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(i).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(i).into(),
        DataType::UInt64 => {
            let v = array.as_primitive::<UInt64Type>().value(i);
            i64::try_from(v).map_err(|_| v)?
        }
        DataType::Dictionary(..) => {
            let dict = array.as_any_dictionary();
            let Some(k) = dict_index(dict.keys(), i).filter(|&k| k < dict.values().len()) else {
                return Ok(None);
            };
            return integer_at(dict.values().as_ref(), k);
        }
        _ => return Ok(None),
    }))
}

/// The value index a dictionary key points at.
fn dict_index(keys: &dyn Array, i: usize) -> Option<usize> {
    if keys.is_null(i) {
        return None;
    }
    let k: i128 = match keys.data_type() {
        DataType::Int8 => keys.as_primitive::<Int8Type>().value(i).into(),
        DataType::Int16 => keys.as_primitive::<Int16Type>().value(i).into(),
        DataType::Int32 => keys.as_primitive::<Int32Type>().value(i).into(),
        DataType::Int64 => keys.as_primitive::<Int64Type>().value(i).into(),
        DataType::UInt8 => keys.as_primitive::<UInt8Type>().value(i).into(),
        DataType::UInt16 => keys.as_primitive::<UInt16Type>().value(i).into(),
        DataType::UInt32 => keys.as_primitive::<UInt32Type>().value(i).into(),
        DataType::UInt64 => keys.as_primitive::<UInt64Type>().value(i).into(),
        _ => return None,
    };
    usize::try_from(k).ok()
}

fn list_to_json(child: ArrayRef) -> Result<Value, String> {
    (0..child.len())
        .map(|j| to_json(child.as_ref(), j))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// Converts row `i` of `array` to JSON. Nulls become `null`, nested types recurse.
pub(crate) fn to_json(array: &dyn Array, i: usize) -> Result<Value, String> {
    if array.is_null(i) {
        return Ok(Value::Null);
    }
    Ok(match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => match integer_at(array, i) {
            Ok(Some(v)) => Value::from(v),
            _ => Value::Null,
        },
        DataType::UInt64 => Value::from(array.as_primitive::<UInt64Type>().value(i)),
        DataType::Float16 => float(array.as_primitive::<Float16Type>().value(i).to_f64()),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(i))),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            Value::String(string_at(array, i).unwrap_or_default().to_owned())
        }
        DataType::Decimal128(..) => {
            Value::String(array.as_primitive::<Decimal128Type>().value_as_string(i))
        }
        DataType::Decimal256(..) => {
            Value::String(array.as_primitive::<Decimal256Type>().value_as_string(i))
        }
        DataType::Date32 => date(array.as_primitive::<Date32Type>().value_as_date(i)),
        DataType::Date64 => date(array.as_primitive::<Date64Type>().value_as_date(i)),
        DataType::Timestamp(unit, tz) => {
            let dt = match unit {
                TimeUnit::Second => array
                    .as_primitive::<TimestampSecondType>()
                    .value_as_datetime(i),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .value_as_datetime(i),
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .value_as_datetime(i),
                TimeUnit::Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .value_as_datetime(i),
            };
            match dt {
                // With a time zone the stored value is a UTC instant; without one it is a
                // wall-clock time and gets no offset.
                Some(dt) if tz.is_some() => {
                    Value::String(dt.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string())
                }
                Some(dt) => Value::String(dt.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
                None => Value::Null,
            }
        }
        DataType::List(_) => list_to_json(array.as_list::<i32>().value(i))?,
        DataType::LargeList(_) => list_to_json(array.as_list::<i64>().value(i))?,
        DataType::FixedSizeList(..) => list_to_json(array.as_fixed_size_list().value(i))?,
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut m = Map::with_capacity(fields.len());
            for (k, f) in fields.iter().enumerate() {
                m.insert(f.name().clone(), to_json(s.column(k).as_ref(), i)?);
            }
            Value::Object(m)
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(i);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut m = Map::with_capacity(entries.len());
            for j in 0..entries.len() {
                let k = string_at(keys.as_ref(), j)
                    .ok_or("a map key is null")?
                    .to_owned();
                m.insert(k, to_json(values.as_ref(), j)?);
            }
            Value::Object(m)
        }
        DataType::Dictionary(..) => {
            let dict = array.as_any_dictionary();
            match dict_index(dict.keys(), i) {
                Some(k) if k < dict.values().len() => to_json(dict.values().as_ref(), k)?,
                _ => Value::Null,
            }
        }
        other => return Err(format!("type {other} is not supported")),
    })
}

fn date(d: Option<chrono::NaiveDate>) -> Value {
    d.map_or(Value::Null, |d| {
        Value::String(d.format("%Y-%m-%d").to_string())
    })
}
