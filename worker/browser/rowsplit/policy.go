package rowsplit

// How many workers "auto" splits a model across. Below MinModelBytes, exchanging each product
// costs about what the other cores save, or more: stories260K (1 MB) lost 0.4-0.6x of its speed
// on two workers, and the bundled 8.6 MB model went from 0.7x to 1.8x of its one-worker decode
// from run to run on the shared 2-core machine; a 135M-class model (90-145 MB) gains 1.4-1.9x
// (the README's bench-browser figures). Past MaxParts, phones' slower cores and the page's own
// work leave little to gain.
const (
	MinModelBytes = 32 << 20
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
