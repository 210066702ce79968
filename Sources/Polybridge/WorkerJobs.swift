/// The job kinds a `polybridge worker` process serves.
public enum WorkerJobs {
    /// The chunk work of fits, the partitions and batches of fits per group, predictions of R
    /// models, and the R and Python steps of pipelines; a warm-up starts R and Python (with pyarrow) before the first job.
    public static let registry = JobRegistry([LinearModelChunkJob.self, GeneralizedLinearModelChunkJob.self, GroupPartitionJob.self,
                                              GroupBatchJob.self, GroupGatherJob.self, ModelPredictionJob.self,
                                              PipelineStepJob.self]) {
        _ = try RRuntime.shared()
        try DataFiles.prepare()
    }
}
