fn main() -> std::process::ExitCode {
    employee_avatars::cli::run()
}
