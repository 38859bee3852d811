//! The catalog of diagnostic codes.
//!
//! Codes are stable: a code is never reused for a different problem. `E` codes are errors and
//! `W` codes are warnings. The hundreds digit groups codes by stage: 0 syntax, 1 names,
//! 2 types, 3 regexes, 4 cross-contract references, 5 staging, 6 contradictions, 7 lints,
//! 8 catalog drift, 9 JSON import.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Severity;

macro_rules! codes {
    ($( $variant:ident = $code:literal, $sev:ident, $title:literal, $explain:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum Code {
            $(
                #[doc = $title]
                #[serde(rename = $code)]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in catalog order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as printed, such as `E0101`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The severity every diagnostic with this code has.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }

            /// A one-line title.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }

            /// The long explanation printed by `dqc explain`.
            pub fn explanation(self) -> &'static str {
                match self { $(Code::$variant => $explain,)* }
            }
        }
    };
}

codes! {
    SyntaxError = "E0001", Error, "syntax error",
        "The text is not a contract in the dqc language. The message says what was expected at the \
         marked position.\n\nExample:\n\n    contract sales.orders {\n      columns { id bigint not null\n    }\n\n\
         Here the closing `}` of the columns block is missing. Every block opened with `{` needs a `}`.";
    InvalidLiteral = "E0002", Error, "invalid literal",
        "A literal could not be read as a value: a date that does not exist (`date '2024-02-30'`), \
         a timestamp that is not `YYYY-MM-DD HH:MM:SS[.fff]`, or a number too large to represent.\n\n\
         Example:\n\n    payment_date >= date '2024-13-01'\n\nMonths run from 01 to 12.";
    ExpressionTooDeep = "E0003", Error, "expression too deep",
        "An expression has more than 256 levels of operators and nesting: a chain of 300 `or` \
         terms, 300 leading `not`s, or 300 nested parentheses. Every stage of the compiler and every \
         engine walks expressions recursively (DuckDB refuses expressions deeper than 1,000), so dqc \
         sets one limit that every backend can run.\n\nExample:\n\n    check status = 'a' or status = 'b' or ... \
         (300 terms)\n\nWrite `status in ('a', 'b', ...)` instead, or split the check into several rules.";
    EmptyValueList = "E0004", Error, "empty value list",
        "`in ()` lists no value, so no row could ever pass it (and `not in ()` would allow every \
         value): it is almost always a list that lost its values on the way. List the allowed values, \
         or write `x is null` when only NULL is allowed.\n\nExample:\n\n    status in ()\n\n\
         Write `status in ('NEW', 'SHIPPED')`.";
    UnknownColumn = "E0101", Error, "unknown column",
        "A rule, a filter, the grain or the partition list names a column that the contract does not \
         declare. The help line suggests the closest declared name.\n\nExample:\n\n    columns { payment_date date }\n    \
         rules { not null paymnt_date }\n\nDeclare the column, or fix the spelling.";
    DuplicateColumn = "E0102", Error, "duplicate column",
        "Two columns of one contract have the same name. Column names are compared without regard \
         to case, as Athena and Glue do.";
    UnknownFunction = "E0103", Error, "unknown function",
        "Check expressions may call only functions that mean the same on Athena, DuckDB and Spark: \
         lower, upper, trim, ltrim, rtrim, length, substr, coalesce, nullif, abs, round, floor, ceil, \
         greatest, least, date_trunc, date_diff, year, month, day. Use `cast(x as type)` for casts.";
    UnknownTable = "E0104", Error, "unknown table",
        "A foreign key references a table that no contract in the project describes. Every file given \
         to dqc, and every `.dqc` file in the directories given, belongs to one project; add the \
         referenced table's contract to it.\n\nExample:\n\n    loan_id references dim_loan (loan_id)\n\n\
         needs a `contract <db>.dim_loan { ... }` somewhere in the project.";
    DuplicateContract = "E0105", Error, "duplicate contract",
        "Two contracts describe the same table. A table has exactly one contract in a project.";
    DuplicateRuleId = "E0106", Error, "duplicate rule id",
        "Two rules of one contract have the same id. Rule ids are stable names used in results, \
         quarantine reasons and alerts, so they must be unique within a contract. Rules without an \
         explicit id get one derived from their kind and columns (for example `not_null_loan_id`); give \
         one of the rules an explicit id with `my_id: <rule>`.";
    DuplicateProperty = "E0107", Error, "duplicate property",
        "A contract property (owner, description, layer, location, partitioned by, grain, sla, \
         columns, rules) appears twice in one contract.";
    UnknownType = "E0108", Error, "unknown type",
        "A column type is not one of: string, varchar(n), char(n), tinyint, smallint, int, bigint, \
         float, double, decimal(p,s), boolean, date, timestamp, array<t>, struct<name: t, ...>.";
    InvalidPropertyValue = "E0109", Error, "invalid property value",
        "A property has a value outside its domain: an sla frequency other than hourly, daily, weekly \
         or monthly, a time of day outside 00:00..23:59, a time unit other than minutes, hours or \
         days, or an empty owner or location.";
    RuleTypeMismatch = "E0201", Error, "rule does not apply to the column type",
        "The rule cannot be evaluated on a column of this type: a regex or length bound on a number, \
         a range on a boolean, any value rule on an array or struct, freshness on a non-temporal column.\n\n\
         Example:\n\n    emi_amount double\n    emi_amount matches '^[0-9]+$'\n\nCompare numbers with ranges instead.";
    LiteralTypeMismatch = "E0202", Error, "literal does not match the column type",
        "A literal in a rule has a type the column cannot be compared with: a number in the allowed \
         values of a string column, a number as the bound of a date range, a string compared with an \
         integer. Write the literal in the column's type, for example `date '2024-01-01'`.";
    InvalidTypeParameter = "E0203", Error, "invalid type parameter",
        "decimal(p, s) needs 1 <= p <= 38 and 0 <= s <= p (the Athena and Spark limits); varchar(n) \
         and char(n) need n >= 1.";
    ExpressionTypeError = "E0204", Error, "expression type error",
        "An operator in a check expression or filter is applied to operands it does not accept: \
         arithmetic on strings, comparison of a date with a number, LIKE on a number, AND on a \
         number. Use `cast(x as type)` to convert explicitly.";
    FunctionSignature = "E0205", Error, "wrong arguments to a function",
        "A function is called with the wrong number of arguments or arguments of the wrong type, \
         for example `length(amount)` on a number or `date_trunc('month')` with one argument.";
    NonBooleanCondition = "E0206", Error, "condition is not boolean",
        "A `check` expression and a `where` filter must be boolean. Comparing a value, for example \
         `where amount > 0`, makes a boolean.";
    LiteralOutOfRange = "E0207", Error, "literal does not fit the column type",
        "A literal is of the right kind but cannot be a value of the column: 300 for a tinyint, a \
         7-character string for a varchar(5), a value with more digits than decimal(p, s) allows. \
         Such a rule can never be satisfied, or never violated, as written.";
    InvalidRegex = "E0301", Error, "invalid regex",
        "A `matches` pattern is not a valid regular expression. The marked position inside the \
         pattern is where it stops making sense.";
    NonPortableRegex = "E0302", Error, "regex feature not portable across engines",
        "Patterns run in Java (Spark, `rlike`), Trino on Athena (Joni or RE2J, `regexp_like`) and \
         DuckDB (RE2, `regexp_matches`). Features that these engines do not share or do not treat \
         alike are rejected: backreferences (`\\1`, `\\k<name>`), lookaround (`(?=`, `(?!`, `(?<=`, \
         `(?<!`), atomic groups (`(?>`), possessive quantifiers (`*+`, `++`, `?+`), `\\Z`, `\\G`, \
         `\\h`, `\\R`, Unicode class escapes (`\\p{..}`) and inline flags other than `(?i)`. \
         Rewrite the pattern with the portable subset: classes, alternation, groups, greedy and lazy \
         quantifiers, anchors `^` and `$`, `\\d`, `\\w`, `\\s`.";
    ForeignKeyColumnNotFound = "E0401", Error, "foreign key target column not found",
        "A foreign key names a column that the referenced contract does not declare.";
    ForeignKeyTypeMismatch = "E0402", Error, "foreign key types are incompatible",
        "A foreign key column and the column it references must have comparable types: both \
         strings, both integers, both numbers of the same kind, both dates. An orphan check between \
         a string and an integer column would compare values that can never be equal.";
    DependencyCycle = "E0403", Error, "cyclic references between contracts",
        "Foreign keys between contracts form a cycle (a references b, b references a). Contracts \
         are checked and loaded in dependency order, which a cycle makes impossible. A table may \
         reference itself; cycles through other tables must be broken.";
    ForeignKeyArity = "E0404", Error, "foreign key column counts differ",
        "A composite foreign key lists a different number of columns on each side.";
    CannotRunPreLoad = "E0501", Error, "rule cannot run pre-load",
        "Pre-load rules run on each incoming batch, row by row, before it is written. Freshness, \
         row count bounds and row count anomalies describe the whole table after the load and \
         can only run post-load. Uniqueness and foreign keys can run pre-load (duplicates within \
         the batch, misses against a reference table). Remove `stage pre_load` or change the rule.";
    ModifierNotApplicable = "E0502", Error, "modifier does not apply to this rule",
        "A modifier is attached to a rule it cannot qualify: `at least N%` on a table-level rule \
         other than uniqueness and foreign keys (freshness, row counts, aggregates), `at least N%` \
         on a uniqueness or foreign-key rule run pre-load (its ratio is judged on the table), \
         `of non-null` on a rule that is not about one column's values, or `where` on a row \
         count anomaly.";
    EmptyRange = "E0601", Error, "empty range",
        "A range admits no value: its lower bound is above its upper bound, or both are equal and \
         one is exclusive. Every row would violate it.\n\nExample:\n\n    emi_amount between 100 and 10";
    AllowedValuesOutsideRange = "E0602", Error, "allowed value outside a declared range",
        "A value listed as allowed lies outside a range declared on the same column by another \
         rule, so rows holding it violate one of the two rules whatever they contain.";
    InvalidThreshold = "E0603", Error, "invalid threshold",
        "A threshold is outside its domain: a percentage above 100% or at most 0%, a freshness \
         window or anomaly window of zero, a negative number of standard deviations.";
    ContradictoryRules = "E0604", Error, "contradictory rules",
        "Two rules on one column cannot both hold for any non-null value, for example `amount > 10` \
         and `amount < 5`.";
    RedundantRule = "W0701", Warning, "redundant rule",
        "A rule is implied by another rule or by the column declaration (a `not null` rule on a column \
         declared `not null`, the same rule twice, a range inside a narrower one). It costs a check \
         and says nothing new; remove it.";
    NullableGrainColumn = "W0702", Warning, "grain column is nullable",
        "A column of the grain (primary key) is declared nullable. Uniqueness checks treat NULL keys \
         as distinct in SQL, so duplicate rows with NULL keys go unnoticed. Declare the column \
         `not null`.";
    CatalogColumnMissing = "E0801", Error, "contract column missing from the catalog",
        "The contract declares a column that the catalog snapshot (Glue GetTable JSON) of the same \
         table does not have. Either the table lost the column or the contract is ahead of the table.";
    CatalogExtraColumn = "W0802", Warning, "catalog column missing from the contract",
        "The catalog snapshot has a column the contract does not declare. Consider documenting it.";
    CatalogTypeMismatch = "E0803", Error, "column type differs from the catalog",
        "The contract declares a type that differs from the catalog snapshot's type for the same \
         column. Generated checks would cast or compare wrongly.";
    CatalogPartitionMismatch = "E0804", Error, "partition keys differ from the catalog",
        "The contract's `partitioned by` list differs from the catalog snapshot's PartitionKeys, in \
         names or order.";
    InvalidCatalogSnapshot = "E0805", Error, "invalid catalog snapshot",
        "A catalog snapshot is not in the shape of a Glue GetTable response: it needs \
         `Table.Name`, `Table.StorageDescriptor.Columns[].Name` and `.Type`; `Table.DatabaseName` \
         and `Table.PartitionKeys` are read when present.";
    CatalogWithoutContract = "W0806", Warning, "catalog snapshot without a contract",
        "A catalog snapshot describes a table that no contract in the project describes, so no \
         drift can be computed for it.";
    InvalidJson = "E0901", Error, "invalid JSON",
        "The input to `dqc import` is not JSON. Markdown code fences around the JSON, comments and \
         trailing commas are accepted; anything else is reported at the first position that does \
         not parse.";
    UnexpectedJsonShape = "E0902", Error, "unexpected JSON shape",
        "The JSON does not have the shape of the LLM output (a `data_quality` object with \
         `table_name`, `columns`, optional `primary_key`, `freshness`, `table_level_checks`; and an \
         optional `tests` array). The message names the field and what was expected.";
    UnknownRuleType = "E0903", Error, "unknown rule type",
        "A rule in imported JSON has a `type` dqc does not know. Known column rule types: not_null, \
         unique, allowed_values, accepted_values, min, max, range, range_soft, regex, pattern, \
         min_length, max_length, length, foreign_key, check. Known table-level types: \
         grain_uniqueness, unique, row_count, row_count_anomaly, freshness, check.";
    ImportApproximation = "W0904", Warning, "imported rule approximated",
        "An imported item was free text or had no exact DSL equivalent; dqc wrote the nearest rule \
         and says what it assumed (for example a row count anomaly described in prose), or dropped \
         a field it has no place for. Review the imported contract before approving it.";
}

impl Code {
    /// Looks a code up by its printed form, ignoring case.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_prefixed_by_severity() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            let prefix = if code.severity() == Severity::Error { 'E' } else { 'W' };
            assert!(code.as_str().starts_with(prefix), "{code}");
            assert!(!code.explanation().is_empty());
        }
        assert_eq!(Code::parse("e0101"), Some(Code::UnknownColumn));
        assert_eq!(Code::parse("E9999"), None);
    }
}
