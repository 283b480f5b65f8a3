package slo

// DCGMExporter is NVIDIA's GPU exporter (dcgm-exporter chart 4.8.2, image
// 4.8.2) with the chart's default counters: the chart mounts its
// exporter-metrics-config-map as /etc/dcgm-exporter/default-counters.csv, so
// exactly the uncommented fields of that ConfigMap are exported, each named
// as the DCGM field. Every sample carries the GPU's identity labels and,
// with the kubelet pod-resources mapping the chart enables, the pod using it.
var DCGMExporter = Exporter{
	Name:    "dcgm-exporter",
	Version: "4.8.2",
	Source: "dcgm-exporter-4.8.2.tgz (../shared/charts, NVIDIA/dcgm-exporter @ 691c92762eb5): templates/metrics-configmap.yaml, " +
		"values.yaml (arguments -f /etc/dcgm-exporter/default-counters.csv, extraConfigMapVolumes); labels from the exporter's " +
		"exposition (gpu, UUID, pci_bus_id, device, modelName, Hostname, DCGM_FI_DRIVER_VERSION; container, namespace, pod when a pod holds the GPU)",
	Metrics: []Metric{
		{Name: "DCGM_FI_DEV_SM_CLOCK", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_MEM_CLOCK", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_MEMORY_TEMP", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_GPU_TEMP", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_POWER_USAGE", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", Type: TypeCounter, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_PCIE_REPLAY_COUNTER", Type: TypeCounter, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_GPU_UTIL", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_MEM_COPY_UTIL", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_ENC_UTIL", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_DEC_UTIL", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_XID_ERRORS", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_FB_FREE", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_FB_USED", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", Type: TypeCounter, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_VGPU_LICENSE_STATUS", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", Type: TypeCounter, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", Type: TypeCounter, Labels: dcgmLabels},
		{Name: "DCGM_FI_DEV_ROW_REMAP_FAILURE", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_PROF_DRAM_ACTIVE", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_PROF_PCIE_TX_BYTES", Type: TypeGauge, Labels: dcgmLabels},
		{Name: "DCGM_FI_PROF_PCIE_RX_BYTES", Type: TypeGauge, Labels: dcgmLabels},
	},
}

var dcgmLabels = []string{"gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION", "container", "namespace", "pod"}
