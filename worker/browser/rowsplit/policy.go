package rowsplit

// How many workers "auto" splits a model across. Below MinModelBytes, exchanging each product
// costs more than the other cores save (stories260K, 1 MB: 0.4x the prefill on two workers);
// from it on they pay (the bundled 8.6 MB model: 1.2-1.3x, a 145 MB one: 1.4-1.6x on two, the
// README's bench-browser figures). Past MaxParts, phones' slower cores and the page's own work
// leave little to gain.
const (
	MinModelBytes = 8 << 20
	MaxParts      = 4
)

// AutoParts is the number of workers for a model of modelBytes on a device with cores cores
// (navigator.hardwareConcurrency), when the page can share memory (isolated) or not.
func AutoParts(modelBytes int64, cores int, isolated bool) int {
	if modelBytes < MinModelBytes || !isolated {
		return 1
	}
	return min(max(cores, 1), MaxParts)
}
