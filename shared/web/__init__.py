"""Web glue: app context and guarded blocks, error mapping, reuse, visitors and access, served files, sessions, settings, MCP."""
