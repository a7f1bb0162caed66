"""resumeflow's developer tools: benchmarks and throwaway servers, outside the runtime package."""
