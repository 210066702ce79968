// The facade re-exports every layer, so `import Polybridge` is all a user writes.
@_exported import PolybridgeArrow
@_exported import PolybridgeConversion
@_exported import PolybridgeFiles
@_exported import PolybridgeJobs
@_exported import PolybridgeModels
@_exported import PolybridgePipelines
@_exported import PolybridgeRuntime
