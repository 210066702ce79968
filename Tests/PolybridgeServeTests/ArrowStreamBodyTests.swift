import Foundation
import PolybridgeModels
@testable import PolybridgeServe
import PolybridgeTestSupport
import Testing

/// The server's Arrow IPC stream reader and writer, against pyarrow: streams pyarrow writes
/// read as pyarrow reads them, streams written here pass pyarrow's full validation with the
/// same values, and a malformed body is a 400, never a crash.
@Suite struct ArrowStreamBodyTests {
    /// Runs `code` in Python with pyarrow; its standard output.
    func python(_ code: String, _ arguments: [String] = []) async throws -> String {
        let run = try await runCommand("python3", ["-c", code] + arguments)
        try #require(run.status == 0, "\(run.error)")
        return run.output
    }

    func read(_ path: String) throws -> (names: [String], columns: [PredictionColumn]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try data.withUnsafeBytes { try ArrowStreamBody.read($0) }
    }

    /// Every type the reader takes, with nulls, in several batches, with dictionaries (one sent
    /// again as a delta), large text and sliced arrays.
    @Test func streamsPyarrowWritesReadAsPyarrowReadsThem() async throws {
        let path = try scratchDirectory() + "/types.arrows"
        let expected = try await python("""
            import json, sys
            import pyarrow as pa
            t = pa.table({
                "f64": pa.array([1.5, None, -0.0, 1e-300, 2.5], pa.float64()),
                "f32": pa.array([0.1, 2.5, None, -3.0, 7.0], pa.float32()),
                "i8": pa.array([-128, 127, None, 0, 5], pa.int8()), "i16": pa.array([-32768, 1, 2, None, 3], pa.int16()),
                "i32": pa.array([2**31 - 1, None, -2**31, 0, 1], pa.int32()), "i64": pa.array([2**53, -2**53, None, 7, 8], pa.int64()),
                "u8": pa.array([255, 0, 1, None, 2], pa.uint8()), "u32": pa.array([2**32 - 1, 0, None, 1, 2], pa.uint32()),
                "flag": pa.array([True, False, None, True, True]),
                "text": pa.array(["a", None, "üñí", "", "数据"]), "big": pa.array(["x", "y", None, "z", "w"], pa.large_string()),
                "factor": pa.array(["p", "q", None, "p", "r"]).dictionary_encode(),
                "small": pa.DictionaryArray.from_arrays(pa.array([1, 0, None, 1, 0], pa.int8()), pa.array(["lo", "hi"])),
            })
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, t.schema) as writer:
                writer.write_table(t.slice(0, 2))
                writer.write_table(t.slice(2))
            with open(sys.argv[1], "wb") as f:
                f.write(sink.getvalue().to_pybytes())
            import struct
            def exact(v):
                # Numbers as the bits of their double (JSON readers may round), the rest as they are.
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    return struct.unpack("<q", struct.pack("<d", float(v)))[0]
                return v
            print(json.dumps({name: [exact(v) for v in t.column(name).to_pylist()] for name in t.column_names}))
            """, [path])
        let want = try #require(try JSONSerialization.jsonObject(with: Data(expected.utf8)) as? [String: [Any]])
        let (names, columns) = try read(path)
        #expect(names == ["f64", "f32", "i8", "i16", "i32", "i64", "u8", "u32", "flag", "text", "big", "factor", "small"])
        for (name, column) in zip(names, columns) {
            let values = want[name] ?? []
            switch column {
            case .numbers(let numbers):
                let expected = values.map { ($0 as? NSNumber).map { UInt64(bitPattern: $0.int64Value) } }
                #expect(numbers.map { $0?.bitPattern } == expected, "\(name): \(numbers)")
            case .texts(let texts): #expect(texts == values.map { $0 as? String }, "\(name)")
            case .logicals(let flags): #expect(flags == values.map { ($0 as? NSNumber)?.boolValue }, "\(name)")
            }
        }
        // A delta dictionary: the second batch adds a level.
        let delta = try scratchDirectory() + "/delta.arrows"
        _ = try await python("""
            import sys
            import pyarrow as pa
            schema = pa.schema([("g", pa.dictionary(pa.int32(), pa.string()))])
            sink = pa.BufferOutputStream()
            options = pa.ipc.IpcWriteOptions(emit_dictionary_deltas=True)
            with pa.ipc.new_stream(sink, schema, options=options) as writer:
                writer.write_batch(pa.record_batch([pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array(["a", "b"]))], schema=schema))
                writer.write_batch(pa.record_batch([pa.DictionaryArray.from_arrays(pa.array([2, 0], pa.int32()), pa.array(["a", "b", "c"]))], schema=schema))
            with open(sys.argv[1], "wb") as f:
                f.write(sink.getvalue().to_pybytes())
            """, [delta])
        #expect(try read(delta).columns == [.texts(["a", "b", "c", "a"])])
    }

    /// Columns written here: pyarrow reads them, validates them in full and finds the same
    /// doubles and nulls; no rows and no columns too.
    @Test func streamsWrittenHerePassPyarrowsValidation() async throws {
        var generator = SystemRandomNumberGenerator()
        let values: [Double?] = (0..<1001).map { index in
            index % 7 == 3 ? nil : Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
        }.map { $0.flatMap { $0.isNaN ? nil : $0 } }
        for columns in [[("predict", values), ("lower", values.map { $0.map { -$0 } }), ("upper", [Double?](repeating: 1, count: 1001))],
                        [("predict", [Double?]())], []] {
            let path = try scratchDirectory() + "/written-\(columns.count).arrows"
            try Data(ArrowStreamBody.write(columns)).write(to: URL(fileURLWithPath: path))
            let read = try await python("""
                import json, struct, sys
                import pyarrow as pa
                with open(sys.argv[1], "rb") as f:
                    table = pa.ipc.open_stream(f.read()).read_all()
                table.validate(full=True)
                print(json.dumps({"names": table.column_names, "types": [str(t) for t in table.schema.types],
                                  "bits": [[None if v is None else struct.unpack("<q", struct.pack("<d", v))[0] for v in c.to_pylist()]
                                           for c in table.columns]}))
                """, [path])
            let out = try #require(try JSONSerialization.jsonObject(with: Data(read.utf8)) as? [String: Any])
            #expect(out["names"] as? [String] == columns.map(\.0))
            #expect(out["types"] as? [String] == columns.map { _ in "double" })
            let bits = out["bits"] as? [[Any]] ?? []
            for (column, got) in zip(columns, bits) {
                #expect(got.map { ($0 as? NSNumber)?.int64Value } == column.1.map { $0.map { Int64(bitPattern: $0.bitPattern) } })
            }
        }
    }

    /// Truncated and corrupted streams, a compressed one and a type it does not take: each a
    /// 400 naming the problem, never a crash.
    @Test func malformedBodiesAreRefused() async throws {
        let path = try scratchDirectory() + "/good.arrows", compressed = try scratchDirectory() + "/zstd.arrows"
        let timestamps = try scratchDirectory() + "/time.arrows"
        _ = try await python("""
            import sys
            import pyarrow as pa
            t = pa.table({"x": [1.0, 2.0, None], "g": pa.array(["a", "b", "a"]).dictionary_encode(), "s": ["u", None, "w"]})
            for path, options in ((sys.argv[1], None), (sys.argv[2], pa.ipc.IpcWriteOptions(compression="zstd"))):
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, t.schema, options=options) as writer:
                    writer.write_table(t)
                open(path, "wb").write(sink.getvalue().to_pybytes())
            ts = pa.table({"when": pa.array([0, 1], pa.timestamp("s"))})
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, ts.schema) as writer:
                writer.write_table(ts)
            open(sys.argv[3], "wb").write(sink.getvalue().to_pybytes())
            """, [path, compressed, timestamps])
        #expect(throws: RequestProblem.self) { try read(compressed) }
        let compressedProblem = try #require(throws: RequestProblem.self) { try read(compressed) }
        #expect(compressedProblem.message.contains("compressed record batch"))
        let typeProblem = try #require(throws: RequestProblem.self) { try read(timestamps) }
        #expect(typeProblem.message.contains("column 'when' of the Arrow body is timestamp"))
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try good.withUnsafeBytes { try ArrowStreamBody.read($0) }.names == ["x", "g", "s"])
        // Every truncation, and 5,000 random corruptions of one to four bytes.
        var generator = SystemRandomNumberGenerator()
        var refused = 0, readWhole = 0
        var bodies = (0..<good.count).map { Array(good.prefix($0)) }
        for _ in 0..<5000 {
            var bytes = good
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            bodies.append(bytes)
        }
        for body in bodies {
            do {
                _ = try body.withUnsafeBytes { try ArrowStreamBody.read($0) }
                readWhole += 1
            } catch is RequestProblem {
                refused += 1
            }
        }
        #expect(refused + readWhole == bodies.count && refused >= good.count - 8)
    }

    /// A stream whose metadata lies, made by changing a written one: a second column reading
    /// the first one's buffer (overlapping buffers would let a small body decode into far more
    /// values), and an array shorter than its batch. Each is a 400 naming it.
    @Test func buffersThatOverlapAndArraysOfTheWrongLengthAreRefused() throws {
        let good = ArrowStreamBody.write([("a", [1, 2, 3]), ("b", [4, 5, 6])])
        #expect(try good.withUnsafeBytes { try ArrowStreamBody.read($0) }.columns == [.numbers([1, 2, 3]), .numbers([4, 5, 6])])
        func int64s(_ values: [Int64]) -> [UInt8] { values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } } }
        func replacing(_ old: [Int64], with new: [Int64]) -> [UInt8] {
            let pattern = int64s(old)
            guard let start = (0...(good.count - pattern.count)).first(where: { Array(good[$0..<($0 + pattern.count)]) == pattern }) else {
                Issue.record("no \(old) in the stream")
                return good
            }
            var bytes = good
            bytes.replaceSubrange(start..<(start + pattern.count), with: int64s(new))
            return bytes
        }
        // The buffers (offset, length): a's validity and values, then b's; b's values moved onto a's.
        let overlapping = replacing([0, 0, 0, 24, 24, 0, 24, 24], with: [0, 0, 0, 24, 24, 0, 0, 24])
        let overlap = try #require(throws: RequestProblem.self) { try overlapping.withUnsafeBytes { try ArrowStreamBody.read($0) } }
        #expect(overlap.message.contains("buffers that overlap or are out of order"), "\(overlap.message)")
        // The nodes (length, nulls): b says 2 values in a batch of 3 rows.
        let short = replacing([3, 0, 3, 0], with: [3, 0, 2, 0])
        let length = try #require(throws: RequestProblem.self) { try short.withUnsafeBytes { try ArrowStreamBody.read($0) } }
        #expect(length.message.contains("an array of 2 values in a batch of 3 rows"), "\(length.message)")
    }
}
