import ArgumentParser

/// Reports a usage mistake found in `run()` the way ArgumentParser reports its own (the
/// message, the command's usage line, where to find help) and returns the exit status for it:
/// 64 (`EX_USAGE`), the status ArgumentParser gives every usage error.
///
/// ArgumentParser would print the root command's usage for a `ValidationError` thrown from
/// `run()`, hence this helper.
func usageError(_ message: String, in command: ParsableCommand.Type) -> ExitCode {
    let name = command.configuration.commandName ?? command._commandName
    printError("""
        Error: \(message)
        Usage: \(PolybridgeCommand.usageString(for: command))
          See 'polybridge \(name) --help' for more information.
        """)
    return ExitCode.validationFailure
}
