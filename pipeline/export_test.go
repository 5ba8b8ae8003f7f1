package pipeline

// FillMetadata is fillMetadata, for the benchmarks of package
// pipeline_test, which store documents the way the pipeline does without
// running it.
var FillMetadata = fillMetadata
