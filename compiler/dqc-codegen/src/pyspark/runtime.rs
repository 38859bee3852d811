//! The contract-independent part of the generated module: the functions that apply `RULES`.
//!
//! It is the same text for every contract, so it is reviewed and linted once; the contract
//! only contributes data (the constants before it). It relies on nothing but `pyspark`
//! (3.1 or later: `F.filter` with a lambda) and imports `awsglue` only inside
//! `split_dynamic_frame`, so the module imports anywhere PySpark does.

/// Python source, ending with a newline.
pub(super) const RUNTIME: &str = r#"

def split(df, references=None, *, tag_warnings=True):
    """Splits a batch into valid and quarantined rows by the contract's pre-load rules.

    Arguments:
        df: the batch about to be loaded, a DataFrame with every column the contract
            declares (matched without regard to case); other columns are carried along.
        references: the tables pre-load foreign keys look keys up in, as a dict from
            "database.table" (matched without regard to case) to a DataFrame. A foreign key
            whose table is missing raises ValueError naming it.
        tag_warnings: whether valid rows get the WARNINGS_COLUMN array (turn it off to load
            exactly the input columns).

    Returns (valid, quarantined, metrics):
        valid: the rows that violate no quarantining rule: the input columns, then
            WARNINGS_COLUMN unless tag_warnings is false.
        quarantined: the other rows: the input columns, ERRORS_COLUMN, WARNINGS_COLUMN and
            HASH_COLUMN (the contract hash).
        metrics: a dict computed by one aggregation over the batch (the only Spark action
            this function runs; valid and quarantined stay lazy): "table", "contract_hash",
            "rows_in", "rows_valid", "rows_quarantined" (rows_valid + rows_quarantined ==
            rows_in), "violations" (rule id -> violating rows, every rule of RULES in order),
            "thresholds" (rule id -> {"min_pass_percent", "checked", "violations",
            "passed"} for rules with an "at least N%" threshold) and "aggregates" (rule id ->
            {"value", "severity", "passed"} for the pre-load aggregate rules of AGGREGATES,
            computed over the whole batch; no row is quarantined for them).

    ERRORS_COLUMN and WARNINGS_COLUMN are arrays of structs {rule_id, rule_name, severity,
    stage, error_reason}, in rule order. A rule quarantines when its severity is error and it
    has no "at least N%" threshold; warn rules and threshold rules only tag (a threshold is
    judged on the whole batch and reported in metrics["thresholds"]).
    """
    _check_columns(df)
    parents = _parents(references)
    ties = [_col(field.name).asc_nulls_first() for field in df.schema.fields if field.dataType.typeName() != "map"]
    flagged = df
    for index, rule in enumerate(RULES):
        if rule["kind"] == "foreign_key":
            flagged = _join_parent(flagged, rule, index, parents[rule["reference"].lower()])
    # One projection computes every flag, so the plan stays flat however many rules there are.
    flags = [f"__dq_rule_{index}" for index in range(len(RULES))]
    flagged = flagged.select("*", *[_flag(rule, index, ties).alias(flag) for index, (flag, rule) in enumerate(zip(flags, RULES))])
    quarantining = [(flag, rule) for flag, rule in zip(flags, RULES) if rule["quarantine"]]
    tagging = [(flag, rule) for flag, rule in zip(flags, RULES) if not rule["quarantine"]]
    bad = F.lit(False)
    for flag, _rule in quarantining:
        bad = bad | F.col(flag)
    flagged = flagged.withColumn(_QUARANTINE, bad)
    inputs = [_col(name) for name in df.columns]
    warnings = _issues(tagging).alias(WARNINGS_COLUMN)
    valid = flagged.where(~F.col(_QUARANTINE)).select(*inputs, *([warnings] if tag_warnings else []))
    quarantined = flagged.where(F.col(_QUARANTINE)).select(
        *inputs,
        _issues(quarantining).alias(ERRORS_COLUMN),
        warnings,
        F.lit(CONTRACT_HASH).alias(HASH_COLUMN),
    )
    return valid, quarantined, _metrics(flagged, flags)


def split_dynamic_frame(glue_context, dyf, references=None, name=None, *, tag_warnings=True):
    """split() for AWS Glue DynamicFrames.

    Converts dyf (and any DynamicFrame in references) with toDF(), splits, and returns
    (valid, quarantined, metrics) with valid and quarantined as DynamicFrames named
    "<name>_valid" and "<name>_quarantined" (name defaults to TABLE).
    """
    from awsglue.dynamicframe import DynamicFrame

    frames = None
    if references is not None:
        frames = {key: frame.toDF() if isinstance(frame, DynamicFrame) else frame for key, frame in references.items()}
    valid, quarantined, metrics = split(dyf.toDF(), frames, tag_warnings=tag_warnings)
    base = TABLE if name is None else name
    return (
        DynamicFrame.fromDF(valid, glue_context, f"{base}_valid"),
        DynamicFrame.fromDF(quarantined, glue_context, f"{base}_quarantined"),
        metrics,
    )


_QUARANTINE = "__dq_quarantine"
_ISSUE_TYPE = "array<struct<rule_id:string,rule_name:string,severity:string,stage:string,error_reason:string>>"


def _col(name):
    # Backquoted, so dots and other characters in a name are never read as syntax.
    return F.col("`" + name.replace("`", "``") + "`")


def _condition(sql):
    # The generated conditions are never NULL; coalescing keeps a row from being lost even if
    # one were, since a NULL flag would drop the row from both outputs.
    return F.coalesce(F.expr(sql), F.lit(False))


def _checked(rule):
    return F.lit(True) if rule["checked"] is None else _condition(rule["checked"])


def _keyed(rule):
    # Checked rows whose key has no NULL part: NULL keys are never duplicates or misses.
    condition = _checked(rule)
    for name in rule["columns"]:
        condition = condition & _col(name).isNotNull()
    return condition


def _flag(rule, index, ties):
    """TRUE exactly for the rows that violate the rule."""
    if rule["kind"] == "row":
        return _condition(rule["violating_row"])
    if rule["kind"] == "unique":
        return _duplicate(rule, ties)
    return _keyed(rule) & F.col(f"__dq_fk{index}_hit").isNull()


def _duplicate(rule, ties):
    keyed = _keyed(rule)
    window = Window.partitionBy(keyed, *[_col(name) for name in rule["columns"]])
    keep = rule["keep"]
    if keep is None:
        return keyed & (F.count(F.lit(1)).over(window) > 1)
    order = _col(keep["order_by"])
    order = order.desc_nulls_last() if keep["descending"] else order.asc_nulls_last()
    # Ties on the order column are broken by every column, so the kept row does not depend
    # on how the batch happens to be partitioned.
    return keyed & (F.row_number().over(window.orderBy(order, *ties)) > 1)


def _join_parent(flagged, rule, index, parent):
    """Adds `__dq_fk<index>_hit`, TRUE when the row's key is in the parent and NULL otherwise."""
    keys = [f"__dq_fk{index}_{position}" for position in range(len(rule["columns"]))]
    parent_keys = parent.select(*[_col(name).alias(key) for name, key in zip(rule["ref_columns"], keys)])
    for key in keys:
        parent_keys = parent_keys.where(F.col(key).isNotNull())
    # Distinct keys, so the left join never multiplies rows.
    parent_keys = parent_keys.distinct().withColumn(f"__dq_fk{index}_hit", F.lit(True))
    on = [_col(name) == F.col(key) for name, key in zip(rule["columns"], keys)]
    return flagged.join(parent_keys, on=on, how="left")


def _issue(rule):
    reason = F.lit(rule["error_reason"])
    if rule["kind"] == "foreign_key":
        # The key that is missing, so a reader knows which parent row to look for.
        keys = [_col(name).cast("string") for name in rule["columns"]]
        reason = F.concat(F.lit(rule["error_reason"] + ": missing key "), F.concat_ws(", ", *keys))
    fields = [F.lit(rule[field]).alias(field) for field in ("rule_id", "rule_name", "severity", "stage")]
    return F.struct(*fields, reason.alias("error_reason"))


def _issues(pairs):
    if not pairs:
        return F.array().cast(_ISSUE_TYPE)
    issues = F.array(*[F.when(F.col(flag), _issue(rule)) for flag, rule in pairs])
    # Cast so both columns have one type, whatever rules a contract has.
    return F.filter(issues, lambda issue: issue.isNotNull()).cast(_ISSUE_TYPE)


def _check_columns(df):
    present = {name.lower() for name in df.columns}
    missing = [name for name in COLUMNS if name.lower() not in present]
    if missing:
        raise ValueError(f"the DataFrame lacks columns of the contract of {TABLE}: {missing}")
    reserved = {ERRORS_COLUMN.lower(), WARNINGS_COLUMN.lower(), HASH_COLUMN.lower()}
    clashes = [name for name in df.columns if name.lower() in reserved or name.lower().startswith("__dq_")]
    if clashes:
        raise ValueError(f"the DataFrame has columns whose names split() reserves: {clashes}")


def _parents(references):
    given = {str(name).lower(): frame for name, frame in (references or {}).items()}
    parents = {}
    for rule in RULES:
        if rule["kind"] != "foreign_key":
            continue
        name = rule["reference"]
        frame = given.get(name.lower())
        if frame is None:
            raise ValueError(
                f"foreign key {rule['rule_id']} of {TABLE} needs the reference table {name}: "
                f"pass references={{{name!r}: dataframe}}"
            )
        present = {column.lower() for column in frame.columns}
        missing = [column for column in rule["ref_columns"] if column.lower() not in present]
        if missing:
            raise ValueError(f"the reference table {name} lacks columns {missing} (foreign key {rule['rule_id']})")
        parents[name.lower()] = frame
    return parents


def _metrics(flagged, flags):
    quarantine = F.col(_QUARANTINE)
    aggregates = [
        F.count(F.lit(1)).alias("rows_in"),
        F.count(F.when(~quarantine, 1)).alias("rows_valid"),
        F.count(F.when(quarantine, 1)).alias("rows_quarantined"),
    ]
    for index, (flag, rule) in enumerate(zip(flags, RULES)):
        aggregates.append(F.count(F.when(F.col(flag), 1)).alias(f"violations_{index}"))
        if rule["min_pass"] is not None:
            aggregates.append(F.count(F.when(_checked(rule), 1)).alias(f"checked_{index}"))
    for index, rule in enumerate(AGGREGATES):
        aggregates.append(F.expr(rule["value"]).alias(f"aggregate_{index}"))
        aggregates.append(F.expr(f"CASE WHEN {rule['fails']} THEN TRUE ELSE FALSE END").alias(f"aggregate_fails_{index}"))
    row = flagged.agg(*aggregates).first()
    metrics = {
        "table": TABLE,
        "contract_hash": CONTRACT_HASH,
        "rows_in": row["rows_in"],
        "rows_valid": row["rows_valid"],
        "rows_quarantined": row["rows_quarantined"],
        "violations": {rule["rule_id"]: row[f"violations_{index}"] for index, rule in enumerate(RULES)},
        "thresholds": {},
        "aggregates": {
            rule["rule_id"]: {
                "value": row[f"aggregate_{index}"],
                "severity": rule["severity"],
                "passed": not row[f"aggregate_fails_{index}"],
            }
            for index, rule in enumerate(AGGREGATES)
        },
    }
    for index, rule in enumerate(RULES):
        if rule["min_pass"] is None:
            continue
        numerator, denominator = rule["min_pass"]
        checked = row[f"checked_{index}"]
        violations = row[f"violations_{index}"]
        metrics["thresholds"][rule["rule_id"]] = {
            "min_pass_percent": rule["min_pass_percent"],
            "checked": checked,
            "violations": violations,
            # Exact: (checked - violations) / checked >= numerator / denominator / 100.
            "passed": (checked - violations) * 100 * denominator >= numerator * checked,
        }
    return metrics
"#;
