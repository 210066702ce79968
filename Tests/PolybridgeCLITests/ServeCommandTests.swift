import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// An HTTP answer: its status and body.
struct HTTPAnswer: Sendable {
    var status: Int
    var text: String
    /// The body parsed as JSON (nil when it is not).
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
}

/// One HTTP exchange through curl.
func http(_ method: String, _ url: String, body: String? = nil, headers: [String] = []) async throws -> HTTPAnswer {
    var arguments = ["-s", "-X", method, url, "-w", "\n%{http_code}", "--max-time", "60"]
    if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
    for header in headers { arguments += ["-H", header] }
    let run = try await runCommand("curl", arguments)
    let lines = run.output.split(separator: "\n", omittingEmptySubsequences: false)
    let status = Int(lines.last ?? "") ?? 0
    let text = lines.dropLast().joined(separator: "\n")
    return HTTPAnswer(status: status, text: text)
}

/// `polybridge serve` through a real HTTP client (curl, Python's urllib): predictions equal to
/// R's `predict()`, every error with its status and a message naming the field, concurrency,
/// a worker killed under load, the timeout, the token, metrics and the SIGTERM drain.
@Suite struct ServeCommandTests {
    /// Waits until a request sent just before is surely on a worker: 2.5 s, well inside the 6 s
    /// it takes there, and longer than curl takes to connect on a loaded machine.
    static func waitUntilQueued(_ server: RunningServer) async throws {
        try await Task.sleep(for: .milliseconds(2500))
    }

    /// The models: R objects (lm with a factor, glm, loess, an lm whose formula calls a
    /// function the workers lack, a slow lm) and a glm saved by `polybridge fit --save`.
    func models() async throws -> [String: String] {
        let folder = try scratchDirectory()
        _ = try await RRuntime.shared().evaluate("""
            local({
              saveRDS(lm(mpg ~ wt + hp + factor(cyl), data = mtcars), '\(folder)/lm.rds')
              saveRDS(glm(am ~ wt + hp, family = binomial, data = mtcars), '\(folder)/glm.rds')
              saveRDS(loess(mpg ~ wt, data = mtcars), '\(folder)/loess.rds')
              saveRDS(lm(mpg ~ I(wt + 0 * length(Sys.sleep(1.5))), data = mtcars), '\(folder)/slow.rds')
              saveRDS(mtcars, '\(folder)/mtcars.rds')
            })
            """)
        // A formula whose function lives in this R's global environment alone (not saved with
        // the model): the workers' predict fails.
        _ = try await RRuntime.shared().evaluate("""
            pb_serve_only_here <- function(x) x
            saveRDS(lm(mpg ~ pb_serve_only_here(wt), data = mtcars), '\(folder)/broken.rds')
            """)
        _ = try await DataFiles.convert(folder + "/mtcars.rds", to: folder + "/mtcars.parquet")
        let saved = try await runPolybridge("fit", "--data", folder + "/mtcars.parquet", "--formula", "am ~ wt + hp", "--family", "binomial",
                                            "--save", folder + "/saved.rds")
        try #require(saved.status == 0, "\(saved.error)")
        let savedLM = try await runPolybridge("fit", "--data", folder + "/mtcars.parquet", "--formula", "mpg ~ wt + hp", "--chunks", "2",
                                              "--save", folder + "/savedlm.rds")
        try #require(savedLM.status == 0, "\(savedLM.error)")
        let grouped = try await runPolybridge("fit", "--data", folder + "/mtcars.parquet", "--formula", "mpg ~ wt + hp", "--by", "cyl",
                                              "--save", folder + "/grouped.rds")
        try #require(grouped.status == 0, "\(grouped.error)")
        return ["grouped": folder + "/grouped.rds", "savedlm": folder + "/savedlm.rds", "cars": folder + "/lm.rds", "am": folder + "/glm.rds", "smooth": folder + "/loess.rds", "broken": folder + "/broken.rds",
                "slow": folder + "/slow.rds", "saved": folder + "/saved.rds"]
    }

    func arguments(_ models: [String: String], _ names: [String]) -> [String] {
        names.flatMap { ["--model", "\($0)=\(models[$0]!)"] }
    }

    static let rows = "data.frame(wt = c(2.62, 3.2, 1.9), hp = c(110, 150, 66), cyl = c(6, 8, 4))"
    static let infer = """
        {"inputs": [{"name": "wt", "shape": [3], "datatype": "FP64", "data": [2.62, 3.2, 1.9]},
                    {"name": "hp", "shape": [3], "datatype": "FP64", "data": [110, 150, 66]},
                    {"name": "cyl", "shape": [3], "datatype": "FP64", "data": [6, 8, 4]}]%@}
        """
    static let records = #"[{"wt": 2.62, "hp": 110, "cyl": 6}, {"wt": 3.2, "hp": 150, "cyl": 8}, {"wt": 1.9, "hp": 66, "cyl": 4}]"#

    func expected(_ rCode: String) async throws -> [Double] {
        try await RRuntime.shared().eval("unname(as.double(\(rCode)))", as: [Double].self)
    }

    func close(_ given: Any?, _ expected: [Double], tolerance: Double = 1e-12) -> Bool {
        guard let values = given as? [Double], values.count == expected.count else { return false }
        return zip(values, expected).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    @Test func predictionsAreRsPredict() async throws {
        let models = try await models()
        let server = try await RunningServer(arguments(models, ["cars", "am", "smooth", "saved", "savedlm", "grouped"]) + ["--workers", "1"])
        let url = server.url
        #expect(try await http("GET", url + "/v2/health/live").status == 200)
        #expect(try await http("GET", url + "/v2/health/ready").status == 200)
        let metadata = try await http("GET", url + "/v2/models/cars")
        let inputs = ((metadata.json as? [String: Any])?["inputs"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(metadata.status == 200 && inputs == ["wt", "hp", "cyl"], "\(metadata.text)")
        #expect(try await http("GET", url + "/v2/models/saved/ready").status == 200)

        // Open Inference Protocol: the lm (an R object) and its prediction interval.
        let infer = try await http("POST", url + "/v2/models/cars/infer", body: Self.infer.replacingOccurrences(of: "%@", with: ""))
        let outputs = (infer.json as? [String: Any])?["outputs"] as? [[String: Any]]
        let lmReference = try await expected("predict(readRDS('\(models["cars"]!)'), \(Self.rows))")
        #expect(infer.status == 200 && close(outputs?.first?["data"], lmReference), "\(infer.text)")
        let interval = try await http("POST", url + "/v2/models/cars/infer",
                                      body: Self.infer.replacingOccurrences(of: "%@", with: #", "parameters": {"interval": "prediction"}"#))
        let bounds = ((interval.json as? [String: Any])?["outputs"] as? [[String: Any]])?.compactMap { $0["data"] as? [Double] }.flatMap { $0 }
        let intervalReference = try await expected("predict(readRDS('\(models["cars"]!)'), \(Self.rows), interval = 'prediction')")
        #expect(close(bounds, intervalReference), "\(interval.text)")

        // Records: the glm as an R object and as a saved fit (predicted in Swift), both types; loess.
        for model in ["am", "saved"] {
            for type in ["response", "link"] {
                let answer = try await http("POST", url + "/v1/models/\(model)/predict?type=\(type)", body: Self.records)
                let predictions = (answer.json as? [String: Any])?["predictions"]
                let reference = try await expected("predict(glm(am ~ wt + hp, family = binomial, data = mtcars), \(Self.rows), type = '\(type)')")
                #expect(answer.status == 200 && close(predictions, reference), "\(model) \(type): \(answer.text)")
            }
        }
        // A saved lm's prediction interval, computed in Swift.
        let savedInterval = try await http("POST", url + "/v1/models/savedlm/predict?interval=prediction", body: Self.records)
        let savedBounds = (savedInterval.json as? [String: Any]).map { answer in
            ["predictions", "lower", "upper"].flatMap { answer[$0] as? [Double] ?? [] }
        }
        let savedReference = try await expected("predict(lm(mpg ~ wt + hp, data = mtcars), \(Self.rows), interval = 'prediction')")
        #expect(close(savedBounds, savedReference, tolerance: 1e-10), "\(savedInterval.text)")
        // A fit per cylinder count, saved: each row is predicted with its group's lm.
        let grouped = try await http("POST", url + "/v1/models/grouped/predict", body: Self.records)
        let groupedReference = try await expected("""
            local({ nd <- \(Self.rows)
                    sapply(seq_len(nrow(nd)), function(i) predict(lm(mpg ~ wt + hp, data = mtcars[mtcars$cyl == nd$cyl[i], ]), nd[i, ])) })
            """)
        #expect(grouped.status == 200 && close((grouped.json as? [String: Any])?["predictions"], groupedReference), "\(grouped.text)")
        let groupedMetadata = try await http("GET", url + "/v2/models/grouped")
        let groupedInputs = ((groupedMetadata.json as? [String: Any])?["inputs"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(groupedInputs == ["cyl", "wt", "hp"], "\(groupedMetadata.text)")
        let smooth = try await http("POST", url + "/v1/models/smooth/predict", body: Self.records)
        let smoothReference = try await expected("predict(readRDS('\(models["smooth"]!)'), \(Self.rows))")
        #expect(close((smooth.json as? [String: Any])?["predictions"], smoothReference), "\(smooth.text)")
        let stopped = try await server.stop()
        #expect(stopped.status == 0, "\(stopped.error)")
    }

    @Test func badRequestsGetTheirStatusAndAMessageNamingTheField() async throws {
        let models = try await models()
        let server = try await RunningServer(arguments(models, ["cars", "saved", "broken", "grouped"]) + ["--workers", "1", "--max-body-bytes", "2000"])
        let url = server.url
        let newLevel = try await RRuntime.shared().eval("""
            tryCatch(predict(readRDS('\(models["cars"]!)'), data.frame(wt = 3, hp = 100, cyl = 5)), error = conditionMessage)
            """, as: String.self)
        let cases: [(String, String, Int, String)] = [
            ("/v1/models/cars/predict", "{not json", 400, "the body is not JSON"),
            ("/v1/models/cars/predict", #"[{"wt": 3, "hp": 100}]"#, 400, "missing input 'cyl'"),
            ("/v1/models/cars/predict", #"[{"wt": "heavy", "hp": 100, "cyl": 6}]"#, 400, "input 'wt' is text (BYTES); the model takes numbers (FP64)"),
            ("/v1/models/cars/predict", #"[{"wt": 3, "hp": 100, "cyl": 6}, {"wt": 3, "hp": "x", "cyl": 6}]"#, 400, "'hp' of record 2 is not a number"),
            ("/v1/models/cars/predict", #"[{"wt": 3, "hp": 100, "cyl": 5}]"#, 400, newLevel),
            ("/v2/models/cars/infer", #"{"inputs": [{"name": "wt", "datatype": "FP64"}]}"#, 400, "inputs[0] (wt) has no 'data' list"),
            ("/v2/models/cars/infer", #"{"inputs": [{"name": "wt", "datatype": "FP99", "data": [1]}]}"#, 400, "inputs[0] (wt): datatype 'FP99'"),
            ("/v1/models/nothing/predict", "[]", 404, "no model named 'nothing' (the models are broken, cars, grouped, saved)"),
            ("/v1/models/grouped/predict", #"[{"wt": 3, "hp": 100, "cyl": 6}, {"wt": 3, "hp": 100, "cyl": 5}]"#, 400,
             "row 2: the saved fit has no group cyl=5 (its 3 groups: cyl=4; cyl=6; cyl=8)"),
            ("/v1/models/cars/predict", "[" + String(repeating: #"{"wt": 3, "hp": 100, "cyl": 6}, "#, count: 100) + "{}]", 413, "over the limit of 2000 bytes"),
            ("/v1/models/broken/predict", #"[{"wt": 3}]"#, 422, "could not find function \"pb_serve_only_here\""),
            ("/v1/models/saved/predict?interval=confidence", #"[{"wt": 3, "hp": 100}]"#, 400, "intervals are for an lm: a glm saved fit predicts values only"),
        ]
        for (path, body, status, message) in cases {
            let answer = try await http("POST", url + path, body: body)
            let error = (answer.json as? [String: Any])?["error"] as? String ?? ""
            #expect(answer.status == status && error.contains(message), "\(path) \(body.prefix(60)): \(answer.status) \(answer.text)")
        }
        _ = try await server.stop()
    }

    /// 120 requests at once from 16 threads of Python's urllib, each with its own 1 to 3 rows:
    /// every answer is R's prediction for its own rows. The lm with a factor is row-wise, so
    /// requests waiting for a worker go to it together (the metrics count fewer jobs than
    /// requests); some of them have a level the model did not see, and get R's message for
    /// their own rows while the others in their job get predictions. The centred lm's
    /// prediction depends on all rows of the call (I(wt - mean(wt))), so its requests go alone.
    @Test func concurrentRequestsAreAllRight() async throws {
        var models = try await models()
        let centred = try scratchDirectory() + "/centred.rds"
        _ = try await RRuntime.shared().evaluate("saveRDS(lm(mpg ~ I(wt - mean(wt)) + hp, data = mtcars), '\(centred)')")
        models["centred"] = centred
        let server = try await RunningServer(arguments(models, ["cars", "saved", "centred"]) + ["--workers", "2"])
        let check = try await runCommand("python3", ["-c", """
            import json, sys, urllib.request, urllib.error
            from concurrent.futures import ThreadPoolExecutor
            url = sys.argv[1]
            def one(i):
                model = ["cars", "saved", "centred"][i % 3]
                rows = [{"wt": 1.5 + ((i + k) % 17) / 10, "hp": 60 + 3 * i + k, "cyl": [4, 6, 8][(i + k) % 3]} for k in range(i % 4 + 1)]
                if model == "cars" and i % 13 == 0:
                    rows[-1]["cyl"] = 5
                req = urllib.request.Request(f"{url}/v1/models/{model}/predict", data=json.dumps(rows).encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=120) as r:
                        return [i, model, rows, r.status, json.loads(r.read())["predictions"]]
                except urllib.error.HTTPError as error:
                    return [i, model, rows, error.code, json.loads(error.read())["error"]]
            with ThreadPoolExecutor(16) as pool:
                print(json.dumps(list(pool.map(one, range(120)))))
            """, server.url])
        try #require(check.status == 0, "\(check.error)")
        let answers = try #require(try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [[Any]])
        #expect(answers.count == 120)
        for answer in answers {
            let model = answer[1] as! String, rows = answer[2] as! [[String: Double]], status = answer[3] as! Int
            let frame = "data.frame(wt = c(\(rows.map { "\($0["wt"]!)" }.joined(separator: ", "))), hp = c(\(rows.map { "\($0["hp"]!)" }.joined(separator: ", "))), cyl = c(\(rows.map { "\($0["cyl"]!)" }.joined(separator: ", "))))"
            if model == "cars" && rows.last?["cyl"] == 5 {
                let message = try await RRuntime.shared().eval("tryCatch(predict(readRDS('\(models["cars"]!)'), \(frame)), error = conditionMessage)",
                                                               as: String.self)
                #expect(status == 400 && (answer[4] as? String)?.contains(message) == true, "\(answer)")
                continue
            }
            let reference = model == "saved" ? "predict(glm(am ~ wt + hp, family = binomial, data = mtcars), \(frame), type = 'response')"
                : "predict(readRDS('\(models[model]!)'), \(frame))"
            let want = try await expected(reference)
            #expect(status == 200 && close(answer[4] as? [Double], want), "\(answer)")
        }
        let metrics = try await http("GET", server.url + "/metrics").text
        func counter(_ name: String) -> Double {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        }
        let (jobs, requests) = (counter("polybridge_worker_jobs_total"), counter("polybridge_worker_job_requests_total"))
        #expect(jobs > 0 && requests > jobs, "\(jobs) jobs for \(requests) requests")
        _ = try await server.stop()
    }

    /// A worker killed with SIGKILL while requests run: each answer is still R's (the request on
    /// the killed worker is sent again), the worker is replaced, and the metrics count it.
    @Test func aWorkerKilledUnderLoadIsReplacedAndNoRequestFails() async throws {
        let models = try await models()
        let server = try await RunningServer(arguments(models, ["slow", "cars"]) + ["--workers", "2"])
        let load = Task {
            try await runCommand("python3", ["-c", """
                import json, sys, urllib.request
                from concurrent.futures import ThreadPoolExecutor
                def one(i):
                    req = urllib.request.Request(sys.argv[1] + "/v1/models/slow/predict", data=json.dumps([{"wt": 3}]).encode(), method="POST")
                    with urllib.request.urlopen(req, timeout=120) as r:
                        return r.status
                with ThreadPoolExecutor(4) as pool:
                    print(json.dumps(list(pool.map(one, range(6)))))
                """, server.url])
        }
        try await Task.sleep(for: .milliseconds(700))
        let victim = try #require(server.workers().first)
        kill(victim, SIGKILL)
        let run = try await load.value
        #expect(run.status == 0 && run.output.trimmingCharacters(in: .whitespacesAndNewlines) == "[200, 200, 200, 200, 200, 200]", "\(run.output) \(run.error)")
        #expect(!server.workers().contains(victim))
        let metrics = try await http("GET", server.url + "/metrics")
        #expect(metrics.text.contains("polybridge_worker_restarts 1"), "\(metrics.text)")
        _ = try await server.stop()
    }

    /// A request past --timeout gets 504 and its R job is interrupted: its worker is killed
    /// and replaced. The server goes on answering.
    @Test func aSlowRequestGets504() async throws {
        let models = try await models()
        let slower = try scratchDirectory() + "/slower.rds"
        _ = try await RRuntime.shared().evaluate("saveRDS(lm(mpg ~ I(wt + 0 * length(Sys.sleep(30))), data = mtcars), '\(slower)')")
        let server = try await RunningServer(["--model", "slower=\(slower)"] + arguments(models, ["saved"]) + ["--workers", "1", "--timeout", "2"])
        let worker = try #require(server.workers().first)
        let started = ContinuousClock.now
        let slow = try await http("POST", server.url + "/v1/models/slower/predict", body: #"[{"wt": 3}]"#)
        #expect(slow.status == 504 && slow.text.contains("longer than 2.0 seconds"), "\(slow.text)")
        #expect(ContinuousClock.now - started < .seconds(20), "the 504 came after the R job ended, not at the timeout")
        #expect(!server.workers().contains(worker), "the worker running the R job was not stopped")
        let next = try await http("POST", server.url + "/v1/models/saved/predict", body: Self.records)
        #expect(next.status == 200, "\(next.text)")
        _ = try await server.stop()
    }

    /// With --token-file every endpoint but health needs the bearer token; /metrics counts
    /// requests by model, endpoint and status, the latency, rows and load times.
    @Test func theTokenAndTheMetrics() async throws {
        let models = try await models()
        let token = try scratchDirectory() + "/token"
        try "s3cret\n".write(toFile: token, atomically: true, encoding: .utf8)
        let server = try await RunningServer(arguments(models, ["saved"]) + ["--token-file", token])
        #expect(try await http("GET", server.url + "/v2/health/live").status == 200)
        #expect(try await http("GET", server.url + "/v2/models/saved").status == 401)
        #expect(try await http("GET", server.url + "/v2/models/saved", headers: ["Authorization: Bearer wrong"]).status == 401)
        let good = ["Authorization: Bearer s3cret"]
        #expect(try await http("POST", server.url + "/v1/models/saved/predict", body: Self.records, headers: good).status == 200)
        #expect(try await http("GET", server.url + "/metrics").status == 401)
        let metrics = try await http("GET", server.url + "/metrics", headers: good).text
        for line in [#"polybridge_requests_total{model="saved",endpoint="predict",status="200"} 1"#,
                     #"polybridge_rows_predicted_total{model="saved"} 3"#, "polybridge_request_duration_seconds_bucket",
                     #"polybridge_model_load_seconds{model="saved"}"#, "polybridge_queue_depth 0"] {
            #expect(metrics.contains(line), "\(line) in \(metrics)")
        }
        _ = try await server.stop()
    }

    /// SIGTERM while a request runs: the server stops taking new ones, answers that one, exits
    /// 0 and leaves no worker.
    @Test func sigtermDrainsAndLeavesNoWorker() async throws {
        let slow = try scratchDirectory() + "/slow6.rds"
        _ = try await RRuntime.shared().evaluate("saveRDS(lm(mpg ~ I(wt + 0 * length(Sys.sleep(6))), data = mtcars), '\(slow)')")
        let server = try await RunningServer(["--model", "slow=\(slow)", "--workers", "1"])
        let request = Task { try await http("POST", server.url + "/v1/models/slow/predict", body: #"[{"wt": 3}]"#) }
        // SIGTERM once the request is on a worker.
        try await Self.waitUntilQueued(server)
        let seen = server.descendants
        let stopped = try await server.stop(SIGTERM)
        let answer = try await request.value
        #expect(answer.status == 200, "\(answer.text)")
        #expect(stopped.status == 0, "\(stopped.error)")
        let left = try await processesLeftBehind(seen)
        #expect(left.isEmpty, "\(left)")
    }

    /// A model file that cannot be served stops the server before it listens, naming it.
    @Test func anUnusableModelIsNamed() async throws {
        let folder = try scratchDirectory()
        _ = try await RRuntime.shared().evaluate("saveRDS(list(a = 1), '\(folder)/list.rds')")
        let run = try await runPolybridge("serve", "--model", "x=\(folder)/list.rds", "--port", "0")
        #expect(run.status == 1 && run.error.contains("cannot serve model 'x' from \(folder)/list.rds") && run.error.contains("no predict method"),
                "\(run.error)")
        let missing = try await runPolybridge("serve", "--model", "x=\(folder)/none.rds", "--port", "0")
        #expect(missing.status == 1 && missing.error.contains("no readable file there"), "\(missing.error)")
        let bad = try await runPolybridge("serve", "--model", "nopath")
        #expect(bad.status == 64 && bad.error.contains("--model takes NAME=PATH"), "\(bad.error)")
    }

    /// A reload (POST /v2/repository/models/NAME/load, or SIGHUP) swaps the model whole: a
    /// request running on the old version finishes on it, later ones get the new one, and a
    /// file that can no longer be served leaves the old version in place.
    @Test func aReloadIsAtomic() async throws {
        let folder = try scratchDirectory()
        let source = folder + "/model.rds"
        // Each prediction of the first version takes 6 s: long enough to reload while one runs.
        _ = try await RRuntime.shared().evaluate("saveRDS(lm(mpg ~ I(wt + 0 * length(Sys.sleep(6))), data = mtcars), '\(source)')")
        let first = try await expected("predict(lm(mpg ~ I(wt), data = mtcars), data.frame(wt = 3))")
        let server = try await RunningServer(["--model", "m=\(source)", "--workers", "2"])
        let body = #"[{"wt": 3}]"#
        let running = Task { try await http("POST", server.url + "/v1/models/m/predict", body: body) }
        try await Self.waitUntilQueued(server)
        _ = try await RRuntime.shared().evaluate("saveRDS(lm(hp ~ wt, data = mtcars), '\(source)')")
        let second = try await expected("predict(readRDS('\(source)'), data.frame(wt = 3))")
        let load = try await http("POST", server.url + "/v2/repository/models/m/load")
        #expect(load.status == 200 && (load.json as? [String: Any])?["version"] as? String == "2", "\(load.text)")
        let old = try await running.value
        #expect(close((old.json as? [String: Any])?["predictions"], first), "the request in flight: \(old.text)")
        let now = try await http("POST", server.url + "/v1/models/m/predict", body: body)
        #expect(close((now.json as? [String: Any])?["predictions"], second), "after the reload: \(now.text)")
        // A file that cannot be served any more: the reload fails and version 2 stays.
        _ = try await RRuntime.shared().evaluate("saveRDS(list(a = 1), '\(source)')")
        let refused = try await http("POST", server.url + "/v2/repository/models/m/load")
        #expect(refused.status == 400 && refused.text.contains("no predict method"), "\(refused.text)")
        let still = try await http("POST", server.url + "/v1/models/m/predict", body: body)
        #expect(close((still.json as? [String: Any])?["predictions"], second), "\(still.text)")
        // SIGHUP reads the file again.
        _ = try await RRuntime.shared().evaluate("saveRDS(lm(qsec ~ wt, data = mtcars), '\(source)')")
        let third = try await expected("predict(readRDS('\(source)'), data.frame(wt = 3))")
        kill(server.process.processIdentifier, SIGHUP)
        var version = ""
        for _ in 0..<50 where version != "3" {
            try await Task.sleep(for: .milliseconds(100))
            version = (((try await http("GET", server.url + "/v2/models/m")).json as? [String: Any])?["versions"] as? [String])?.first ?? ""
        }
        #expect(version == "3")
        let after = try await http("POST", server.url + "/v1/models/m/predict", body: body)
        #expect(close((after.json as? [String: Any])?["predictions"], third), "after SIGHUP: \(after.text)")
        #expect(try await http("POST", server.url + "/v2/repository/models/none/load").status == 404)
        let stopped = try await server.stop()
        #expect(stopped.status == 0, "\(stopped.error)")
    }

    /// Arrow IPC stream bodies in and out (pyarrow writes the request and reads the answer,
    /// validated in full): the predictions are R's; a body that is not a stream is a 400.
    @Test func arrowBodiesInAndOut() async throws {
        let models = try await models()
        let server = try await RunningServer(arguments(models, ["cars", "saved"]) + ["--workers", "1"])
        let run = try await runCommand("python3", ["-c", """
            import json, sys, urllib.request, urllib.error
            import pyarrow as pa
            rows = pa.table({"wt": [2.62, 3.2, 1.9], "hp": pa.array([110, 150, 66], pa.int32()), "cyl": [6.0, 8.0, 4.0]})
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, rows.schema) as writer:
                writer.write_table(rows)
            out = {}
            for model, query in (("cars", "?interval=confidence"), ("saved", "?type=response")):
                req = urllib.request.Request(f"{sys.argv[1]}/v1/models/{model}/predict{query}", data=sink.getvalue().to_pybytes(), method="POST",
                                             headers={"Content-Type": "application/vnd.apache.arrow.stream"})
                with urllib.request.urlopen(req, timeout=60) as r:
                    assert r.headers["Content-Type"] == "application/vnd.apache.arrow.stream", r.headers["Content-Type"]
                    table = pa.ipc.open_stream(r.read()).read_all()
                table.validate(full=True)
                out[model] = table.to_pydict()
            bad = urllib.request.Request(f"{sys.argv[1]}/v1/models/cars/predict", data=b"not arrow", method="POST",
                                         headers={"Content-Type": "application/vnd.apache.arrow.stream"})
            try:
                urllib.request.urlopen(bad, timeout=60)
                out["bad"] = 200
            except urllib.error.HTTPError as error:
                out["bad"] = [error.code, json.loads(error.read())["error"]]
            print(json.dumps(out))
            """, server.url])
        try #require(run.status == 0, "\(run.error)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        let cars = out["cars"] as? [String: [Double]]
        let interval = try await expected("predict(readRDS('\(models["cars"]!)'), \(Self.rows), interval = 'confidence')")
        #expect(close((cars?["predict"] ?? []) + (cars?["lower"] ?? []) + (cars?["upper"] ?? []), interval), "\(run.output)")
        let glm = try await expected("predict(glm(am ~ wt + hp, family = binomial, data = mtcars), \(Self.rows), type = 'response')")
        #expect(close((out["saved"] as? [String: [Double]])?["predict"], glm), "\(run.output)")
        let bad = out["bad"] as? [Any]
        #expect(bad?.first as? Int == 400 && (bad?.last as? String)?.contains("not an Arrow IPC stream") == true, "\(run.output)")
        _ = try await server.stop()
    }
}
