// conversions
