//! The conformance suite against [`store::InMemoryClueStore`], one test per check.

mod conformance;
mod support;

use conformance::*;
use store::InMemoryClueStore;

async fn store() -> InMemoryClueStore {
    let s = InMemoryClueStore::new(support::SECRET.to_vec()).expect("store");
    seed(&s).await;
    s
}

macro_rules! checks {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            conformance::$name(&store().await).await;
        }
    )*};
}

checks!(
    clues_are_numbered_per_county_and_day_and_found_by_id_number_and_reporter,
    the_inbox_lists_a_state_by_next_deadline_and_refuses_an_unknown_state,
    a_receipt_replays_and_refuses_another_payload_under_its_key,
    a_resubmission_links_the_earlier_clue_and_only_its_reporter_may_make_it,
    a_command_versions_the_clue_replays_and_refuses_what_it_must,
    a_refused_command_stores_nothing,
    the_deadline_and_outbox_indexes_hold_what_is_open_and_owed,
    a_judgment_counts_in_the_county_city_and_province,
    month_rollups_equal_their_days_and_planned_reads_give_the_same_figures,
    messages_are_kept_in_order_beside_the_timeline,
    the_vault_masks_and_reveals_after_the_event,
    the_directory_keeps_officers_and_refuses_an_incoherent_bureau,
    scope_versions_follow_each_other,
    a_binding_code_is_redeemed_once_and_not_after_expiry,
);

/// The whole suite on one store, as the moto run does it (the checks do not disturb each other).
#[tokio::test]
async fn every_check_on_one_store() {
    all(&store().await).await;
}
