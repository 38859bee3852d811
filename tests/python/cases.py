"""Fixture rows and hand-computed expectations, shared by the DuckDB and the Spark runs.

Each case is one contract of ``contracts/``. Its rows are written once, with explicit Python
types (Decimal for decimals, date and datetime for dates and timestamps, float for floating
point), and loaded both into DuckDB and into a Spark DataFrame built with the contract's schema.
The first column of every fixture table is ``id``, the row's identity.

``expected`` holds, for every rule of the contract, the number of violations the SQL suite must
report, worked out by hand from the rows (the comments say which rows). It is never computed by
the code under test. ``spark_flagged`` pins the exact rows the PySpark module must flag for
set-based rules whose choice of row is a policy (``keep first by``).
"""

from dataclasses import dataclass, field
from datetime import date as D
from datetime import datetime as DT
from datetime import timedelta
from datetime import timezone as TZ
from decimal import Decimal as Dec

NAN = float("nan")
INF = float("inf")

#: The run time bound to freshness queries.
RUN_TIME = "2024-06-01 12:00:00"


@dataclass(frozen=True)
class Partition:
    """A partition-restricted run of the suite."""

    values: dict
    expected: dict


@dataclass(frozen=True)
class Case:
    table: str
    columns: tuple
    rows: list
    expected: dict
    spark_flagged: dict = field(default_factory=dict)
    references: tuple = ()
    thresholds: dict = field(default_factory=dict)
    partition: Partition | None = None
    history_rules: tuple = ()
    #: Aggregate rules: rule id -> the value worked out by hand (None: no value to aggregate).
    aggregates: dict = field(default_factory=dict)
    #: Post-load key rules with `at least N%`: rule id -> (checked, violations, passed).
    key_ratios: dict = field(default_factory=dict)


def T(hour, minute=0, second=0):
    return DT(2024, 1, 1, hour, minute, second)


CASES = {
    "not_nulls": Case(
        table="fx.not_nulls",
        columns=("id", "name", "email", "phone", "tags"),
        rows=[
            (1, "a", "a@x", "1", ["x"]),
            (2, "", "", "", []),  # empty strings and arrays are not NULL
            (3, None, None, None, None),
            (4, "na\u00efve", None, "2", None),
            (5, "\u65e5\u672c", "e@x", None, ["y"]),
            (6, "\U0001f600", "f@x", "3", ["z", None]),
        ],
        expected={
            "not_null_id": 0,
            "not_null_name": 1,  # 3
            "not_null_email": 2,  # 3, 4
            "not_null_phone": 2,  # 3, 5: 4 of 6 pass, 66.7% >= 60%
            "not_null_tags": 2,  # 3, 4
        },
        thresholds={"not_null_phone": (6, 2, True)},
    ),
    "unique_codes": Case(
        table="fx.unique_codes",
        columns=("id", "code", "n"),
        rows=[
            (1, "A", 1),
            (2, "A", 2),
            (3, "a", 3),  # case matters
            (4, "", 4),
            (5, "", 4),  # '' is a value, so 4 and 5 are duplicates
            (6, None, 4),  # NULL code: never a duplicate, and outside the filter of unique n
            (7, None, 5),
            (8, "na\u00efve", 5),
            (9, "na\u00efve", 6),
            (10, "B", None),
            (11, "C", None),  # NULL n: never a duplicate
        ],
        expected={
            "not_null_id": 0,
            "unique_code": 6,  # A: 1, 2; '': 4, 5; naive: 8, 9
            "unique_n": 2,  # among rows with a code: n = 4 at 4, 5
        },
        spark_flagged={"unique_code": {1, 2, 4, 5, 8, 9}, "unique_n": {4, 5}},
    ),
    "events": Case(
        table="fx.events",
        columns=("id", "event_id", "session_id", "seq", "received_at"),
        rows=[
            (1, "e1", "s1", 1, T(10)),
            (2, "e1", "s1", 1, T(9)),
            (3, "e1", "s1", 2, None),
            (4, "e2", "s1", 2, T(8)),
            (5, "e2", "s2", 1, T(8)),
            (6, None, "s2", 1, T(8)),
            (7, None, "s2", None, T(7)),
            (8, "e3", None, 1, T(6)),
            (9, "e3", None, 1, T(6)),
        ],
        expected={
            "not_null_id": 0,
            # All but one row per key: e1 (3 rows), e2 (2), e3 (2).
            "unique_event_id": 4,
            # (s1, 1): 1, 2; (s1, 2): 3, 4; (s2, 1): 5, 6.
            "unique_session_id_seq": 3,
            # (s2, 1, 08:00): 5, 6; rows with a NULL part are never duplicates.
            "unique_session_id_seq_received_at": 2,
        },
        spark_flagged={
            # Keep the earliest: e1 keeps 2 (09:00; NULL times sort last), e2 keeps 4 (tie on
            # 08:00, broken by id), e3 keeps 8 (tie, broken by id).
            "unique_event_id": {1, 3, 5, 9},
            # Keep the latest: (s1, 1) keeps 1, (s1, 2) keeps 4 (NULL last), (s2, 1) keeps 5.
            "unique_session_id_seq": {2, 3, 6},
            "unique_session_id_seq_received_at": {5, 6},
        },
    ),
    "allowed_values": Case(
        table="fx.allowed_values",
        columns=("id", "status", "priority", "is_gift", "ship_day", "price", "ratio"),
        rows=[
            (1, "NEW", 1, True, D(2024, 1, 1), Dec("9.99"), 0.5),
            (2, "new", 4, False, D(2024, 1, 2), Dec("10.00"), 1.5),
            (3, "", 0, None, None, None, NAN),
            (4, "na\u00efve", None, True, D(2024, 7, 1), Dec("100.00"), INF),
            (5, "it's", 3, False, D(2024, 7, 1), Dec("19.99"), -INF),
            (6, "naive", 2, True, D(2023, 12, 31), Dec("99.99"), None),
            (7, None, -1, True, D(2024, 1, 1), Dec(100), 0.5000000001),
        ],
        expected={
            "not_null_id": 0,
            "allowed_values_status": 2,  # 'new', 'naive'
            "allowed_values_priority": 3,  # 4, 0, -1
            "allowed_values_is_gift": 2,  # false at 2, 5
            "allowed_values_ship_day": 2,  # 2024-01-02, 2023-12-31
            "allowed_values_price": 2,  # 10.00, 99.99
            "allowed_values_ratio": 4,  # NaN, inf, -inf, 0.5000000001
        },
    ),
    "amounts": Case(
        table="fx.amounts",
        columns=("id", "amount", "qty", "discount", "temp", "score"),
        rows=[
            (1, 0.0, 1, Dec(0), 0.1, 999),
            (2, 100.0, 10, Dec("0.0001"), -5.5, 1000),
            (3, 100.0000001, 0, Dec("-0.0001"), -5.4, None),
            (4, NAN, 11, None, NAN, 2**62),
            (5, INF, None, Dec("1.0000"), INF, -1),
            (6, -INF, -2147483648, Dec(-1), -INF, 0),
            (7, None, 5, Dec("0.5"), None, None),
            (8, 50.5, 2147483647, Dec(0), 0.0, 1),
            (9, 1e-300, 1, Dec(0), 0.09, 5),
        ],
        expected={
            "not_null_id": 0,
            "range_amount": 5,  # 0 (exclusive), 100.0000001, NaN, inf, -inf
            "range_qty": 4,  # 0, 11, int min, int max
            "min_discount": 2,  # -0.0001, -1
            # float 0.1 is 0.10000000149 as a double (> 0.1); -5.5 is exact (exclusive);
            # NaN, inf, -inf.
            "range_temp": 5,
            "max_score": 2,  # 1000 (exclusive), 2**62
        },
    ),
    "schedule": Case(
        table="fx.schedule",
        columns=("id", "on_day", "start_ts", "end_ts", "fine_ts"),
        rows=[
            (1, D(2024, 1, 1), DT(2024, 1, 1), DT(2024, 12, 31), DT(2024, 3, 10, 12, 30, 0, 500000)),
            (2, D(2025, 1, 1), DT(2024, 1, 1, 0, 0, 0, 1), DT(2024, 12, 31, 0, 0, 0, 1), DT(2024, 3, 10, 12, 30, 0, 499999)),
            (3, D(2023, 12, 31), DT(2023, 12, 31, 23, 59, 59), DT(2024, 12, 30, 23, 59, 59), DT(2024, 3, 10, 12, 30, 1)),
            (4, D(2024, 12, 31), None, None, DT(2024, 3, 10, 12, 30, 1, 1)),
            (5, None, DT(2024, 6, 15, 12), DT(2025, 1, 1), None),
            (6, D(2024, 2, 29), DT(1970, 1, 1), DT(1900, 1, 1), DT(2024, 3, 10, 12, 30, 0, 750000)),
        ],
        expected={
            "not_null_id": 0,
            "range_on_day": 2,  # 2025-01-01 (exclusive), 2023-12-31
            "min_start_ts": 3,  # equal to the exclusive bound, 2023-12-31, 1970
            "max_end_ts": 2,  # one microsecond past midnight of 2024-12-31, 2025
            "range_fine_ts": 2,  # .499999 and 01.000001 fall outside [00.5, 01]
        },
    ),
    "people": Case(
        table="fx.people",
        columns=("id", "name", "code", "nickname"),
        rows=[
            (1, "na\u00efve", "abc", "Bo"),
            (2, "\u65e5\u672c", "ab", ""),
            (3, "\U0001f600", "\u65e5\u672c\u8a9e", "\U0001f600" * 4),
            (4, "", "\u00e9", "\U0001f44d\U0001f3fd" * 2),
            (5, "abcdef", None, "abcde"),
            (6, None, "a b", None),
            (7, "\U0001f44d\U0001f3fd", "   ", "x"),
            (8, "e\u0301", "\u00c5\u00c5\u00c5", "\t"),
        ],
        expected={
            "not_null_id": 0,
            # Code points: naive 5, two CJK 2, an emoji 1, '' 0, 6 letters, a thumbs-up with a
            # skin tone 2, e + combining accent 2: rows 3, 4, 5 fall outside 2..5.
            "length_name": 3,
            "length_code": 2,  # 'ab', precomposed e-acute
            "length_nickname": 2,  # '' (0), 'abcde' (5); four emoji and two thumbs-up pairs are 4
            "not_null_nickname": 1,  # 6; post-load, so the PySpark module does not apply it
        },
    ),
    "shipments": Case(
        table="fx.shipments",
        columns=("id", "ordered_at", "shipped_at", "status", "weight_kg", "max_kg", "is_ok", "opened", "closed"),
        rows=[
            (1, T(10), T(11), "OK", 1.0, 2.0, True, D(2024, 1, 1), DT(2024, 1, 1, 0, 0, 1)),
            (2, T(10), T(9, 59), "UNKNOWN", 3.0, 2.0, False, D(2024, 1, 2), DT(2024, 1, 2)),
            (3, T(10), T(10), "unknown", NAN, 2.0, None, D(2024, 1, 3), DT(2024, 1, 2, 23, 59, 59)),
            (4, None, T(9), "ENVELOPE", 1.5, NAN, True, None, DT(2024, 1, 1)),
            (5, T(10), None, "ENVELOPE", 1.5000001, None, True, D(2024, 1, 1), None),
            (6, T(10), T(12), None, INF, INF, True, D(2024, 1, 1), DT(2024, 1, 2)),
            (7, T(10), T(12), "ENVELOPE", None, 1.0, True, D(2024, 1, 1), DT(2024, 1, 2)),
            (8, T(10), T(12), "ENVELOPE", NAN, NAN, True, D(2024, 1, 1), DT(2024, 1, 2)),
        ],
        expected={
            "not_null_id": 0,
            "ship_after_order": 1,  # 2
            "weight_within_max": 4,  # 2 (3 > 2), NaN on either side at 3, 4, 8; inf <= inf holds
            "status_known": 1,  # 2 ('unknown' differs in case)
            "envelope_weight": 2,  # envelopes 5 (1.5000001) and 8 (NaN)
            "is_ok_true": 1,  # 2
            "closed_after_open": 2,  # 2 (equal to midnight), 3 (before the date)
        },
    ),
    "codes": Case(
        table="fx.codes",
        columns=("id", "iso", "pan", "sku", "email", "note"),
        rows=[
            (1, "USD", "ABCDE1234F", "SKU-1", "a.b+c@ex-ample.com", "it's"),
            (2, "usd", "abcde1234f", "SKU-12-AB", "a@b", "its"),
            (3, "US", "ABCDE12345", "sku-1", "\u00fc@ex.com", "a\\b"),
            (4, "\u00dcSD", "abcd1234f", "ITM-007-X-Y", "", "no dot"),
            (5, None, None, None, None, None),
            (6, "USDX", "ABCDE1234F ", "SKU-", "x@y.z", "end."),
            (7, "", "", "SKU-\u0661", "x_y@y_z.io", ""),
        ],
        expected={
            "not_null_id": 0,
            "regex_iso": 5,  # 2, 3, 4 (U-umlaut), 6, 7
            "regex_pan": 4,  # 3, 4, 6 (trailing space), 7; (?i) accepts 2
            "regex_sku": 3,  # 3 (lowercase), 6 (no digits), 7 (an Arabic-Indic digit is not \d)
            "regex_email": 3,  # 2 (no dot part), 3 (u-umlaut is not \w), 4 ('')
            "regex_note": 3,  # 2, 4, 7: no "it's", backslash or dot
        },
    ),
    "dim_customer": Case(
        table="fx.dim_customer",
        columns=("id", "customer_id", "region", "seg"),
        rows=[
            (1, "C1", "EU", 1),
            (2, "C2", "EU", 2),
            (3, "c3", "US", 1),
            (4, "", None, 1),
            (5, "\u65e5\u672c", "APAC", None),
        ],
        expected={"not_null_id": 0, "not_null_customer_id": 0, "unique_customer_id": 0},
    ),
    "fact_orders": Case(
        table="fx.fact_orders",
        columns=("id", "customer_id", "region", "seg", "status"),
        rows=[
            (1, "C1", "EU", 1, "SHIPPED"),
            (2, "C3", "EU", 2, "SHIPPED"),  # 'C3' is not 'c3'
            (3, None, "US", 1, "NEW"),  # a NULL key is never a miss
            (4, "", "APAC", None, "SHIPPED"),  # '' is a key of the dimension
            (5, "\u65e5\u672c", "US", 2, "NEW"),
            (6, "C9", None, 1, None),
            (7, "C2", "EU", 1, "SHIPPED"),
            (8, "C9", "APAC", 1, "NEW"),
        ],
        expected={
            "not_null_id": 0,
            "fk_customer_id_dim_customer": 3,  # 2, 6, 8
            "fk_region_seg_dim_customer": 2,  # (US, 2) at 5, (APAC, 1) at 8
            "fk_cust_shipped": 1,  # shipped rows 1, 2, 4, 7: 2 misses
        },
        spark_flagged={"fk_customer_id_dim_customer": {2, 6, 8}, "fk_region_seg_dim_customer": {5, 8}},
        references=("fx.dim_customer",),
    ),
    "employees": Case(
        table="fx.employees",
        columns=("id", "manager_id"),
        rows=[(1, None), (2, 1), (3, 9), (4, 3), (5, 5), (6, -1)],
        expected={"not_null_id": 0, "fk_manager_id_employees": 2},  # 9 and -1 are no id
        spark_flagged={"fk_manager_id_employees": {3, 6}},
        # The batch is its own reference: split() gets the same DataFrame twice.
        references=("fx.employees",),
    ),
    "clicks": Case(
        table="fx.clicks",
        columns=("id", "event_time", "event_date", "kind"),
        rows=[
            (1, DT(2024, 6, 1, 10, 30), D(2024, 5, 31), "click"),
            (2, DT(2024, 6, 1, 9, 59, 59), D(2024, 5, 31), "view"),
            (3, DT(2024, 5, 30, 23), D(2024, 5, 30), "view"),
            (4, None, None, None),
        ],
        expected={
            "not_null_id": 0,
            "freshness_event_time": 0,  # newest 10:30:00 is exactly 90 minutes before 12:00
            "freshness_event_date": 1,  # newest 2024-05-31 is 36 hours old
            "fresh_views": 1,  # newest view 09:59:59 is 7201 s old
        },
        partition=Partition(
            values={"event_date": "2024-05-30"},
            expected={
                "not_null_id": 0,
                "freshness_event_time": 1,
                "freshness_event_date": 1,
                "fresh_views": 1,
            },
        ),
    ),
    "daily_summary": Case(
        table="fx.daily_summary",
        columns=("id", "kind"),
        rows=[(1, "x"), (2, "x"), (3, "y"), (4, None)],
        expected={
            "not_null_id": 0,
            "row_count": 0,  # 4 rows, between 1 and 5
            "min_row_count": 1,  # 4 < 5
            "few_x": 1,  # 2 rows of kind x
        },
        history_rules=("row_count_anomaly",),
    ),
    "invoices": Case(
        table="fx.invoices",
        columns=(
            "id", "kind", "quantity", "price", "discount", "total", "email", "code", "amount",
            "opened_at", "closed_on", "tier",
        ),
        rows=[
            (1, "DEBIT", 2, Dec("10.00"), None, Dec("20.00"), "a@x.com", "ABC", 12.34, DT(2024, 3, 15, 10), D(2024, 3, 20), "GOLD"),
            (2, "CREDIT", 1, Dec("5.00"), Dec("0.00"), Dec("-5.00"), "A@x.com", " AB", 12.345, DT(2024, 3, 1), D(2024, 2, 28), "SILVER"),
            (3, "DEBIT", 3, Dec("1.10"), Dec("0.30"), Dec("3.00"), "b@test.com", "BAD", 42.0, DT(2024, 12, 31, 23, 59, 59), None, None),
            (4, "CREDIT", 2, Dec("2.50"), None, Dec("5.00"), "c.x", "", NAN, DT(2024, 1, 1), D(1999, 12, 31), "BRONZE"),
            (5, "REFUND", None, Dec("1.00"), None, None, None, None, None, None, None, "GOLD"),
            (6, None, 4, Dec("250.00"), Dec("1.00"), Dec("999.00"), "d@y.org", "\u00c4BC", 401.0, DT(2024, 6, 30, 12), D(2024, 6, 30), "GOLD"),
            (7, "DEBIT", 5, Dec("0.00"), None, Dec("0.00"), "e@z.io", "abcd", 499.99, DT(2024, 2, 29), D(2024, 3, 1), None),
            (8, "DEBIT", 1, Dec("1.00"), None, Dec("-1.00"), "f@g.hk", "XYZ", 1.0, DT(2024, 5, 5, 5, 5), D(2024, 5, 6), "SILVER"),
        ],
        expected={
            "not_null_id": 0,
            "line_total": 2,  # 2 (5.00 != -5.00), 8 (1.00 != -1.00); NULL quantity at 5
            "credit_sign": 2,  # 4 (credit 5.00), 8 (debit -1.00); NULL kind takes the else
            "email_shape": 3,  # 2 (upper case), 3 (@test.), 4 (no @)
            "code_shape": 2,  # 2 (' AB' is not trimmed), 7 (lower case); A-umlaut upper holds
            "code_not_bad": 1,  # 3
            "amount_round": 1,  # 4 (NaN)
            "least_total": 1,  # 2 (-5.00); NULL discount makes least NULL at 1, 4, 5, 7, 8
            "month_start": 5,  # only 2 and 4 are midnight on the 1st; 5 is NULL
            "closed_after": 2,  # 2 (-2 days over Feb 29), 4 (1999)
            "closed_year": 1,  # 4
            "tier_known": 1,  # 4 (BRONZE)
            "amount_band": 1,  # 3 (42.0); NaN is not between 40 and 45
            "gold_total": 2,  # gold 1 (20.00) and 6 (999.00); NULL total at 5
            "per_unit": 2,  # 4 (NaN), 6 (100.25)
            "like_second_e": 2,  # CREDIT at 2, 4
            "whole_price": 2,  # 3 (1.10), 4 (2.50)
            "no_debit_gold": 1,  # 1
            "even_quantity": 4,  # 1, 3, 5, 1 at rows 2, 3, 7, 8
        },
    ),
    "filtered_orders": Case(
        table="fx.filtered_orders",
        columns=("id", "ref", "status", "shipped_at", "amount", "country"),
        rows=[
            (1, "r1", "SHIPPED", None, 10.0, "US"),
            (2, "r1", "SHIPPED", DT(2024, 1, 1), -1.0, "CA"),
            (3, "r2", None, None, -5.0, "US"),  # NULL status: filters on status are NULL
            (4, "r2", "CANCELLED", None, -2.0, "US"),
            (5, "r3", "NEW", None, NAN, "UK"),
            (6, "r3", "new", None, 0.0, "US"),
            (7, "r2", "NEW", None, 150.0, "US"),
            (8, "r4", "SHIPPED", None, 100.0, None),
        ],
        expected={
            "not_null_id": 0,
            "not_null_shipped_at": 2,  # shipped 1, 8
            "min_amount": 2,  # checked 1, 2, 6, 7: -1.0 at 2, 0.0 at 6
            "unique_ref": 6,  # rows with a status: r1 at 1, 2; r2 at 4, 7; r3 at 5, 6
            "allowed_values_status": 1,  # US rows: 'new' at 6
            "amount_cap": 2,  # U% rows 1, 3, 4, 5, 6, 7: NaN at 5, 150 at 7; 4 of 6 pass
        },
        spark_flagged={"unique_ref": {1, 2, 4, 5, 6, 7}},
        thresholds={"amount_cap": (6, 2, True)},
    ),
    "ratios": Case(
        table="fx.ratios",
        columns=("id", "email", "score"),
        rows=[(1, "a", 1), (2, None, -1), (3, "c", 5), (4, "d", 7)],
        expected={
            "not_null_id": 0,
            "not_null_email": 1,  # 2: 75% pass, exactly the threshold
            "min_score": 1,  # 2: 75% pass, below 99.5%
        },
        thresholds={"not_null_email": (4, 1, True), "min_score": (4, 1, False)},
    ),
    "aggregates": Case(
        table="fx.aggregates",
        columns=("id", "amount", "qty", "price", "channel", "day", "blank", "big"),
        rows=[
            (1, 10.0, 1, Dec("1.50"), "web", D(2024, 1, 1), None, 1.0),
            (2, 20.0, 2, Dec("2.50"), "web", D(2024, 1, 3), None, 1.0),
            (3, NAN, None, None, "shop", None, None, 1.0),
            (4, None, 3, Dec("3.00"), None, D(2024, 1, 2), None, 1.0),
            (5, 30.0, 4, None, "web", D(2024, 1, 5), None, 1.0),
            (6, 40.0, None, Dec("1.00"), "app", D(2024, 1, 4), None, INF),
        ],
        expected={
            "not_null_id": 0,
            "min_of_amount": 0,  # 10 (NaN of 3 and NULL of 4 are not aggregated)
            "max_of_amount": 1,  # 40 is not < 40
            "mean_of_amount": 0,  # (10 + 20 + 30 + 40) / 4 = 25
            "sum_of_qty": 0,  # 1 + 2 + 3 + 4 = 10
            "sum_of_price": 1,  # 1.50 + 2.50 + 3.00 + 1.00 = 8.00, not > 8
            "stddev_of_amount": 0,  # sqrt(500 / 3) = 12.91
            "distinct_count_of_channel": 1,  # web, shop, app: 3
            "distinct_ratio_of_channel": 0,  # 3 distinct of 5 values: 0.6
            "null_ratio_of_channel": 1,  # 1 NULL of 6 rows: 0.167
            "max_of_day": 0,  # 2024-01-05
            "web": 0,  # rows 1, 2, 5: (10 + 20 + 30) / 3 = 20
            "nothing": 1,  # no row has id > 100: no value
            "mean_of_blank": 1,  # only NULLs: no value
            "max_of_big": 1,  # infinity
            "mean_of_big": 0,  # infinity >= 0
        },
        aggregates={
            "min_of_amount": 10.0,
            "max_of_amount": 40.0,
            "mean_of_amount": 25.0,
            "sum_of_qty": Dec(10),
            "sum_of_price": Dec("8.00"),
            "stddev_of_amount": (500 / 3) ** 0.5,
            "distinct_count_of_channel": 3,
            "distinct_ratio_of_channel": 0.6,
            "null_ratio_of_channel": 1 / 6,
            "max_of_day": D(2024, 1, 5),
            "web": 20.0,
            "nothing": None,
            "mean_of_blank": None,
            "max_of_big": INF,
            "mean_of_big": INF,
        },
    ),
    "instants": Case(
        table="fx.instants",
        columns=("id", "seen_at"),
        rows=[
            (1, DT(2023, 12, 31, 23, 30, tzinfo=TZ.utc)),  # before 2024 in UTC
            (2, DT(2024, 1, 1, 0, 0, tzinfo=TZ.utc)),  # the bound itself
            (3, DT(2024, 5, 31, 20, 0, tzinfo=TZ.utc)),  # the newest: 16 hours before the run
            (4, None),
            (5, DT(2024, 1, 1, 4, 0, tzinfo=TZ(timedelta(hours=5)))),  # 2023-12-31 23:00 UTC
        ],
        expected={
            "not_null_id": 0,
            "min_seen_at": 2,  # 1, and 5 (its wall clock is 2024, its instant is not)
            "max_seen_at": 0,
            "freshness_seen_at": 0,  # 16 hours <= 1 day
            "max_of_seen_at": 0,  # 2024-05-31 20:00 UTC
        },
        aggregates={"max_of_seen_at": DT(2024, 5, 31, 20, 0, tzinfo=TZ.utc)},
    ),
    "key_ratios": Case(
        table="fx.key_ratios",
        columns=("id", "code", "customer_id"),
        rows=[
            (1, "A", "C1"),
            (2, "A", "C2"),
            (3, "B", "C9"),  # not a customer
            (4, None, None),  # no key: not checked by either rule
            (5, "C", "C1"),
            (6, "D", "C2"),
            (7, "E", "X"),  # not a customer
            (8, "F", "C1"),
            (9, "G", "c3"),
            (10, "H", ""),
        ],
        expected={
            "not_null_id": 0,
            "codes_mostly": 2,  # rows 1 and 2 share A
            "codes_strict": 2,
            "fk_mostly": 2,  # 3 and 7
            "fk_strict": 2,
        },
        references=("fx.dim_customer",),
        # 9 rows have a key; 7 of 9 (77.8%) pass: at least 75% holds, at least 80% does not.
        key_ratios={
            "codes_mostly": (9, 2, True),
            "codes_strict": (9, 2, False),
            "fk_mostly": (9, 2, True),
            "fk_strict": (9, 2, False),
        },
    ),
    "mostly": Case(
        table="fx.mostly",
        columns=("id", "x"),
        rows=[(1, 1), (2, 2), (3, None), (4, None), (5, None), (6, 5), (7, 3), (8, 4), (9, None), (10, 2)],
        expected={
            "not_null_id": 0,
            "all_rows": 1,  # 6 (x = 5); NULLs pass
            "non_null": 1,  # 6
            "non_null_where": 1,  # 6
        },
        # all_rows: 9 of 10 pass, 90%: met. non_null: 5 of the 6 values, 83.3%: missed (as GE's
        # mostly=0.9). non_null_where: ids 3..10 with a value are 6, 7, 8, 10: 3 of 4, 75%: missed.
        thresholds={"all_rows": (10, 1, True), "non_null": (6, 1, False), "non_null_where": (4, 1, False)},
    ),
    "Odd_Table": Case(
        table="odd-db.Odd Table",
        columns=("id", "weird col", "in", "a.b", "back`tick", 'say "hi"', "check"),
        rows=[
            (1, "it's", 1, "x", "ab", "no quotes", 2),
            (2, "back\\slash", 0, None, "abc", "it's", 1),
            (3, "\u65e5\u672c", -1, "x", "\u65e5", None, 3),
            (4, "tab\there", None, "y", "", "ok", 0),
            (5, "two\nlines", 1, "x", None, "", None),
            (6, "back\\\\slash", 1, "y", "\U0001f600" * 3, "''", 4),
            (7, "\u65e5\u672c", 7, "z", "z", "fine", 1),
        ],
        expected={
            "not_null_id": 0,
            "weird_allowed": 1,  # 6: two backslashes are not one
            "in_positive": 2,  # 2 (0), 3 (-1)
            "ab_not_null": 1,  # 2
            "backtick_length": 2,  # 'abc', three emoji
            "no_quotes": 2,  # "it's", "''"
            "check_min": 1,  # 4 (0)
            "check_max": 1,  # 6 (4)
            "glued": 1,  # 1: 'x' || "it's"
            "no_backslash_like": 2,  # 2 and 6 start with a backslash after 'back' (no escape character)
            "newline_like": 1,  # 5: _ matches the newline
            "ab_in_unique": 2,  # (x, 1) at 1, 5
        },
        spark_flagged={"ab_in_unique": {1, 5}},
    ),
    # Edge cases engines read differently by themselves (see contracts/engine_disagreements.dqc);
    # the generated code gives each one meaning on every engine.
    "d_division": Case(
        table="fx.d_division",
        columns=("id", "amount", "qty"),
        rows=[(1, 5.0, 0), (2, 0.0, 0), (3, -5.0, 0), (4, 50.0, 1)],
        # Division by zero is NULL on every engine, so the check holds for rows 1 to 3.
        expected={"not_null_id": 0, "per_unit": 0},
    ),
    "d_substr": Case(
        table="fx.d_substr",
        columns=("id", "code"),
        rows=[(1, "abc"), (2, "xbc")],
        # A start below 1 gives NULL on every engine, so the check holds.
        expected={"not_null_id": 0, "prefix": 0},
    ),
    "d_dollar": Case(
        table="fx.d_dollar",
        columns=("id", "code"),
        rows=[(1, "${x}"), (2, "plain"), (3, "${y}")],
        # code_known: row 3 only (with '${x}' substituted away, rows 1 and 3 would be).
        # not_y: row 3 only (with '${y}' substituted away, no row would be).
        expected={"not_null_id": 0, "code_known": 1, "not_y": 1},
    ),
    "d_overflow": Case(
        table="fx.d_overflow",
        columns=("id", "b", "n"),
        rows=[
            (1, 5, 3),
            (2, 9223372036854775807, 2147483647),  # b + 1 and n * n overflow
            (3, None, None),  # NULL: undecided without an overflow, not flagged
            (4, -9223372036854775808, -5),  # -b overflows, but b < 0 decides the check
            (5, 0, 46341),  # 46341 * 46341 overflows an int
        ],
        # b_grows: row 2. product: rows 2 and 5 (n >= 0 there, so the overflow leaves it
        # undecided). negated: none (row 4's overflow is decided by b < 0).
        expected={"not_null_id": 0, "b_grows": 1, "product": 2, "negated": 0},
    ),
    "d_upper": Case(
        table="fx.d_upper",
        columns=("id", "name"),
        rows=[(1, "stra\u00dfe"), (2, "abc")],
        # upper changes ASCII letters only, so the sharp s stays one code point everywhere.
        expected={"not_null_id": 0, "upper_keeps_length": 0},
    ),
    "d_ceil": Case(
        table="fx.d_ceil",
        columns=("id", "amount"),
        rows=[(1, NAN), (2, 0.5), (3, -0.5)],
        # Row 3; ceil keeps NaN on every engine, and NaN orders above every number.
        expected={"not_null_id": 0, "ceil_positive": 1},
    ),
    "d_round_cast": Case(
        table="fx.d_round_cast",
        columns=("id", "amount"),
        rows=[(1, 1.005), (2, 2.7)],
        # round: the double 1.005 is 1.00499..., so round(amount, 2) is 1.0 (row 1; Spark's own
        # round would give 1.01). cast: 2.7 rounds to 3 (row 2).
        expected={"not_null_id": 0, "round_half": 1, "cast_int": 1},
    ),
    "d_round_more": Case(
        table="fx.d_round_more",
        columns=("id", "amount", "d"),
        rows=[(1, 2.5, 1), (2, -2.5, 1), (3, 0.125, 2), (4, NAN, 0), (5, 1e300, 0)],
        expected={
            "not_null_id": 0,
            # round(0.125) is 0 (row 3); NaN satisfies no comparison (row 4); 1e300 is unchanged (row 5).
            "half_away": 3,
            # 2.5, -2.5 and 0.125 round to 0 at tens; NaN and 1e300 do not (rows 4, 5).
            "tens": 2,
            # round(0.125, 2) is 0.13 (12.5 is exact, so the half goes up; row 3). round keeps
            # NaN, and inside a check NaN = NaN holds on DuckDB and Spark.
            "computed_digits": 1,
        },
    ),
    "d_regex": Case(
        table="fx.d_regex",
        columns=("id", "w", "i", "d", "n", "v"),
        rows=[
            (1, "\u00e9a", "\u212a", "a\rb", "abc\n", "a\x0bb"),
            (2, "a", "k", "axb", "abc", "ab"),
        ],
        expected={
            "not_null_id": 0,
            "case_folding": 0,  # RE2: (?i) folds the Kelvin sign to k
            "dot_cr": 0,  # RE2: . matches \r
            "dollar_newline": 1,  # RE2: $ does not match before a final \n
            "vertical_tab": 0,  # RE2: \s excludes \v, so \S matches it
        },
    ),
}
