import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `ModelPredictionJob`: R's `predict()` of an R model object saved as RDS, in this process and
/// on a worker, equal to R's own `predict()` bit for bit; R's errors keep R's message.
@Suite struct ModelPredictionJobTests {
    /// Saves the models the tests predict from; returns the folder.
    func models() async throws -> String {
        let folder = try scratchDirectory()
        _ = try await RRuntime.shared().evaluate("""
            local({
              saveRDS(lm(mpg ~ wt + hp + factor(cyl), data = mtcars), '\(folder)/lm.rds')
              saveRDS(glm(am ~ wt + hp, family = binomial, data = mtcars), '\(folder)/glm.rds')
              saveRDS(loess(mpg ~ wt, data = mtcars), '\(folder)/loess.rds')
              saveRDS(list(a = 1), '\(folder)/list.rds')
            })
            """)
        return folder
    }

    static let rows = "mtcars[c(1, 5, 20, 31), c('wt', 'hp', 'cyl')]"

    func job(_ model: String, type: String? = nil, interval: String? = nil, cyl: [Double?] = [6, 8, 4, 8]) async throws -> ModelPredictionJob {
        let wt = try await RRuntime.shared().eval("\(Self.rows)$wt", as: [Double].self)
        let hp = try await RRuntime.shared().eval("\(Self.rows)$hp", as: [Double].self)
        return ModelPredictionJob(model: model, names: ["wt", "hp", "cyl"], columns: [.numbers(wt), .numbers(hp), .numbers(cyl)],
                                  type: type, interval: interval)
    }

    func expected(_ model: String, _ arguments: String) async throws -> [Double] {
        try await RRuntime.shared().eval("unname(as.double(predict(readRDS('\(model)'), newdata = \(Self.rows)\(arguments))))", as: [Double].self)
    }

    @Test func predictionsAreRsOwnInThisProcessAndOnAWorker() async throws {
        let folder = try await models()
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 1)
        defer { pool.shutdown() }
        let local = InProcessJobExecutor(registry: WorkerJobs.registry)
        for executor in [local as any JobExecutor, pool] {
            let lm = try await executor.run(try await job(folder + "/lm.rds"))
            #expect(lm.fit == (try await expected(folder + "/lm.rds", "")).map { $0 })
            let interval = try await executor.run(try await job(folder + "/lm.rds", interval: "prediction"))
            let bounds = try await RRuntime.shared().eval("""
                unname(as.double(predict(readRDS('\(folder)/lm.rds'), newdata = \(Self.rows), interval = 'prediction')))
                """, as: [Double].self)
            #expect((interval.fit + (interval.lower ?? []) + (interval.upper ?? [])).map { $0 } == bounds.map { $0 })
            for type in ["link", "response"] {
                let glm = try await executor.run(try await job(folder + "/glm.rds", type: type))
                #expect(glm.fit == (try await expected(folder + "/glm.rds", ", type = '\(type)'")).map { $0 }, "\(type)")
            }
            let loess = try await executor.run(try await job(folder + "/loess.rds"))
            #expect(loess.fit == (try await expected(folder + "/loess.rds", "")).map { $0 })
        }
    }

    @Test func rErrorsKeepRsMessage() async throws {
        let folder = try await models()
        let executor = InProcessJobExecutor(registry: WorkerJobs.registry)
        let newLevel = try await RRuntime.shared().eval("""
            tryCatch(predict(readRDS('\(folder)/lm.rds'), newdata = data.frame(wt = 3, hp = 100, cyl = 5)), error = conditionMessage)
            """, as: String.self)
        await #expect { _ = try await executor.run(try await job(folder + "/lm.rds", cyl: [5, 5, 5, 5])) } throws: { error in
            (error as? JobError)?.code == .rError && "\(error)".contains(newLevel)
        }
        let missing = ModelPredictionJob(model: folder + "/lm.rds", names: ["wt"], columns: [.numbers([3])])
        await #expect { _ = try await executor.run(missing) } throws: { error in "\(error)".contains("object 'hp' not found") }
        await #expect { _ = try await executor.run(try await job(folder + "/list.rds")) } throws: { error in
            "\(error)".contains("holds an object of class list, which has no predict method")
        }
        await #expect { _ = try await executor.run(try await job(folder + "/none.rds")) } throws: { error in
            "\(error)".contains("no model file \(folder)/none.rds")
        }
    }

    /// A model file replaced on disk is read again: the next prediction is the new model's.
    @Test func aReplacedModelFileIsReadAgain() async throws {
        let folder = try await models()
        let executor = InProcessJobExecutor(registry: WorkerJobs.registry)
        let first = try await executor.run(try await job(folder + "/lm.rds"))
        try await Task.sleep(for: .milliseconds(20))
        _ = try await RRuntime.shared().evaluate("saveRDS(lm(mpg ~ wt, data = mtcars), '\(folder)/lm.rds')")
        let second = try await executor.run(try await job(folder + "/lm.rds"))
        #expect(second.fit == (try await expected(folder + "/lm.rds", "")).map { $0 })
        #expect(second.fit != first.fit)
    }
}
