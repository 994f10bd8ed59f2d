#pragma once
// A DICOM Segmentation object (binary, DCMTK's dcmseg) for labels painted on a volume read from a DICOM series, so
// that DICOM viewers overlay the segments on that series: one segment per label present (its name, colour as
// CIELab, algorithm AUTOMATIC "juleseg"), one frame per segment and source slice that holds the label, each frame
// with the source slice's position and a reference to its SOP instance; patient, study and frame of reference
// copied from the source.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/DicomSource.h"
#include "core/base/Volume.h"
#include "core/io/LabelOutputs.h"

namespace jseg {

// DICOM's Recommended Display CIELab Value: sRGB (D65 white) to CIELab, scaled to 0..65535 (L* 0..100,
// a* and b* -128..127).
std::array<uint16_t, 3> dicomLabFromRgb(const std::array<uint8_t, 3>& rgb);

// InputError when the labels are not on the source's grid (slice count, in-plane size) or no label is present.
// Written atomically.
void writeDicomSegmentation(const LabelVolume& labels, const std::vector<LabelInfo>& table, const DicomSource& source,
                            const std::string& path);

} // namespace jseg
