/// A named, typed column or struct member, as described by one C `ArrowSchema`.
public struct ArrowField: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The field name (empty when the producer gave none).
    public var name: String
    /// The Arrow type of the field's values.
    public var type: ArrowDataType
    /// Whether the field may contain nulls (the `ARROW_FLAG_NULLABLE` flag).
    public var nullable: Bool

    /// Creates a field; fields are nullable unless told otherwise.
    public init(name: String, type: ArrowDataType, nullable: Bool = true) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }

    /// A readable "name: type" rendering, with " not null" for non-nullable fields.
    public var description: String {
        "\(name): \(type)\(nullable ? "" : " not null")"
    }
}
