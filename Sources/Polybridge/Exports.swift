@_exported import PolybridgeRuntime
