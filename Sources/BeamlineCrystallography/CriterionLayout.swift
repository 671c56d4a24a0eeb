/// The scaler's row layout for the criterion kernel.
///
/// Rows are stored frame by frame. Within a frame come first the rows alone
/// on their pixel, grouped by streak (streaks in increasing order), then the
/// rows that share a pixel with another row, pixel by pixel. A run of rows
/// of one streak then takes that streak's a and b once, and its sums
/// collect in registers; only the shared pixels need the rows of several
/// streaks at once.
struct CriterionLayout {
    /// New row position → position in the pixel-sorted order.
    var order: [Int]
    /// Pixel groups in the new order: rows groups[p]..<groups[p+1] share a pixel.
    var groups: [Int32]
    /// (start, end) pairs: the runs of rows of one streak that are alone on their pixel.
    var runs: [Int32]
    /// (start, end) pairs: the pixels of more than one row.
    var sharedPixels: [Int32]

    /// The layout of rows sorted by (frame, y, x), whose pixel groups are
    /// `groups`, with dense streak `rowStreak` and each streak's frame position.
    init(pixelGroups groups: [Int32], rowStreak: [Int32], streakFrame: [Int], frameCount: Int) {
        let n = rowStreak.count, streakCount = streakFrame.count
        var alone = [Bool](repeating: false, count: n), groupEnd = alone
        for p in 0..<(groups.count - 1) {
            let lo = Int(groups[p]), hi = Int(groups[p + 1])
            if hi - lo == 1 { alone[lo] = true }
            groupEnd[hi - 1] = true
        }
        var aloneRows = [Int](repeating: 0, count: streakCount)
        var sharedRows = [Int](repeating: 0, count: frameCount)
        for r in 0..<n {
            let s = Int(rowStreak[r])
            if alone[r] { aloneRows[s] += 1 } else { sharedRows[streakFrame[s]] += 1 }
        }
        // Streaks by frame (counting sort, streaks increasing within a frame).
        var frameStreakStart = [Int](repeating: 0, count: frameCount + 1)
        for s in 0..<streakCount { frameStreakStart[streakFrame[s] + 1] += 1 }
        for f in 0..<frameCount { frameStreakStart[f + 1] += frameStreakStart[f] }
        var byFrame = [Int](repeating: 0, count: streakCount), fill = frameStreakStart
        for s in 0..<streakCount { byFrame[fill[streakFrame[s]]] = s; fill[streakFrame[s]] += 1 }
        // Where each streak's lone rows and each frame's shared rows begin.
        var next = [Int](repeating: 0, count: streakCount), nextShared = [Int](repeating: 0, count: frameCount)
        var runs: [Int32] = [], cursor = 0
        for f in 0..<frameCount {
            for s in byFrame[frameStreakStart[f]..<frameStreakStart[f + 1]] {
                next[s] = cursor
                if aloneRows[s] > 0 { runs += [Int32(cursor), Int32(cursor + aloneRows[s])] }
                cursor += aloneRows[s]
            }
            nextShared[f] = cursor
            cursor += sharedRows[f]
        }
        var order = [Int](repeating: 0, count: n)
        for r in 0..<n {
            let s = Int(rowStreak[r])
            if alone[r] {
                order[next[s]] = r
                next[s] += 1
            } else {
                order[nextShared[streakFrame[s]]] = r
                nextShared[streakFrame[s]] += 1
            }
        }
        // Shared rows keep their pixel order, so a group ends where it ended.
        var newGroups: [Int32] = [0], shared: [Int32] = []
        newGroups.reserveCapacity(groups.count)
        for position in 0..<n where groupEnd[order[position]] {
            let start = newGroups.last!
            newGroups.append(Int32(position + 1))
            if position + 1 - Int(start) > 1 { shared += [start, Int32(position + 1)] }
        }
        self.order = order
        self.groups = newGroups
        self.runs = runs
        self.sharedPixels = shared
    }

    /// For each block of rows (block b: rows rowStart[b]..<rowStart[b+1]),
    /// where its (start, end) pairs begin in `pairs` (sorted by start).
    static func blockStarts(of pairs: [Int32], rowStart: [Int]) -> [Int] {
        var starts = [0], k = 0
        for b in 1..<rowStart.count {
            while k < pairs.count / 2 && Int(pairs[2 * k]) < rowStart[b] { k += 1 }
            starts.append(k)
        }
        return starts
    }
}
