//! Counts of the requests a store made and the capacity they consumed: what DynamoDB reported
//! (`ReturnConsumedCapacity`) and what its pricing rules give for the item sizes involved (moto
//! does not report capacity for every call, so the bench shows both).

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::item::Item;

/// Totals for one request kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub requests: u64,
    /// Items read or written.
    pub items: u64,
    /// Sum of the `ConsumedCapacity.CapacityUnits` the service reported.
    pub reported_units: f64,
    /// Read or write units by DynamoDB's rules (reads: 4 KB units, halved when eventually
    /// consistent; writes: 1 KB units, doubled in a transaction), base table only.
    pub estimated_units: f64,
}

/// Per-operation usage since creation (or the last [`Meter::take`]).
#[derive(Debug, Default)]
pub struct Meter {
    usage: Mutex<BTreeMap<&'static str, Usage>>,
}

impl Meter {
    pub(crate) fn record(
        &self,
        op: &'static str,
        items: u64,
        reported: Option<f64>,
        estimated: f64,
    ) {
        if let Ok(mut usage) = self.usage.lock() {
            let u = usage.entry(op).or_default();
            u.requests += 1;
            u.items += items;
            u.reported_units += reported.unwrap_or(0.0);
            u.estimated_units += estimated;
        }
    }

    /// The usage so far, by operation.
    pub fn snapshot(&self) -> BTreeMap<&'static str, Usage> {
        self.usage.lock().map(|u| u.clone()).unwrap_or_default()
    }

    /// The usage so far, and resets it.
    pub fn take(&self) -> BTreeMap<&'static str, Usage> {
        self.usage
            .lock()
            .map(|mut u| std::mem::take(&mut *u))
            .unwrap_or_default()
    }
}

/// The size of an item as DynamoDB bills it: attribute names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(s) => s.iter().map(String::len).sum(),
        AttributeValue::Ns(s) => s.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(s) => s.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// Write units of an item: 1 per started KB.
pub fn write_units(size: usize) -> f64 {
    size.max(1).div_ceil(1024) as f64
}

/// Read units of items read one by one (GetItem, BatchGetItem): 1 per started 4 KB each.
pub fn read_units_each(sizes: impl IntoIterator<Item = usize>, consistent: bool) -> f64 {
    let units: usize = sizes.into_iter().map(|s| s.max(1).div_ceil(4096)).sum();
    if consistent {
        units as f64
    } else {
        units as f64 / 2.0
    }
}

/// Read units of a Query page: its total size in started 4 KB units.
pub fn read_units_total(sizes: impl IntoIterator<Item = usize>, consistent: bool) -> f64 {
    let total: usize = sizes.into_iter().sum();
    let units = total.max(1).div_ceil(4096) as f64;
    if consistent { units } else { units / 2.0 }
}
