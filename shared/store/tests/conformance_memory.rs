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
    the_sweep_takes_a_handled_deadline_out_of_its_index_once,
    overdue_entries_are_written_once_and_listed_latest_due_first,
    a_reminder_reaches_the_bound_officers_once_and_is_read_for_its_bureau,
    the_console_counts_the_inbox_and_sees_a_disabled_account,
    a_supervision_is_listed_for_the_bureau_that_opened_it_and_the_one_that_answers,
    a_filed_scope_version_is_listed_for_its_province_and_acknowledged_once,
    a_bulletin_is_versioned_issued_once_and_read_once_per_recipient,
    an_export_job_advances_until_it_ends,
    the_day_counters_add_up_to_the_period_sums,
    a_notice_is_attempted_by_one_instance_and_its_delivery_recorded_once,
    a_reminder_delivery_is_attempted_once_and_its_outcome_shown_on_the_reminder,
    an_account_locks_after_failures_and_its_codes_and_tokens_are_used_once,
    an_uploaded_year_places_the_pending_deadlines_it_covers,
);

/// The whole suite on one store, as the moto run does it (the checks do not disturb each other).
#[tokio::test]
async fn every_check_on_one_store() {
    all(&store().await).await;
}
