//! The `dqc` binary.

fn main() -> std::process::ExitCode {
    dqc_cli::main()
}
