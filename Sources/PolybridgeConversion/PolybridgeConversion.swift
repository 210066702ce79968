// The R <-> Arrow and Python <-> Arrow conversions live here.
import PolybridgeArrow
import PolybridgeRuntime
