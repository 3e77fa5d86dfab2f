//! A vector of records with reusable places and generation counts, so that an index kept by a
//! user handle or a timer entry is recognised as stale once its record is gone.

#[derive(Debug)]
struct Place<T> {
    generation: u32,
    value: Option<T>,
}

#[derive(Debug)]
pub(crate) struct Slab<T> {
    places: Vec<Place<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { places: Vec::new(), free: Vec::new(), len: 0 }
    }
}

impl<T> Slab<T> {
    /// Stores `value`; returns its (index, generation).
    pub fn insert(&mut self, value: T) -> (u32, u32) {
        self.insert_with(|_| value)
    }

    /// Stores the record `build` makes knowing its own (index, generation), and returns them.
    #[inline]
    pub fn insert_with(&mut self, build: impl FnOnce((u32, u32)) -> T) -> (u32, u32) {
        self.len += 1;
        match self.free.pop() {
            Some(index) => {
                let place = &mut self.places[index as usize];
                let key = (index, place.generation);
                place.value = Some(build(key));
                key
            }
            None => {
                let key = (self.places.len() as u32, 0);
                self.places.push(Place { generation: 0, value: Some(build(key)) });
                key
            }
        }
    }

    pub fn get(&self, index: u32, generation: u32) -> Option<&T> {
        self.places.get(index as usize).filter(|p| p.generation == generation).and_then(|p| p.value.as_ref())
    }

    pub fn get_mut(&mut self, index: u32, generation: u32) -> Option<&mut T> {
        self.places.get_mut(index as usize).filter(|p| p.generation == generation).and_then(|p| p.value.as_mut())
    }

    /// The record at `index` whatever its generation (for indices from the demux table,
    /// which is always current).
    pub fn at(&self, index: u32) -> Option<&T> {
        self.places.get(index as usize).and_then(|p| p.value.as_ref())
    }

    pub fn at_mut(&mut self, index: u32) -> Option<&mut T> {
        self.places.get_mut(index as usize).and_then(|p| p.value.as_mut())
    }

    pub fn generation(&self, index: u32) -> u32 {
        self.places.get(index as usize).map_or(0, |p| p.generation)
    }

    /// Takes the record out; its place gets a new generation and will be reused.
    pub fn remove(&mut self, index: u32) -> Option<T> {
        let value = self.places.get_mut(index as usize)?.value.take()?;
        self.vacated(index);
        Some(value)
    }

    /// Drops the record where it is (no move of a large record out of the slab); its place
    /// gets a new generation and will be reused. Returns false when the place was empty.
    pub fn free(&mut self, index: u32) -> bool {
        let Some(place) = self.places.get_mut(index as usize).filter(|p| p.value.is_some()) else { return false };
        place.value = None;
        self.vacated(index);
        true
    }

    /// The bookkeeping of a place just emptied: a new generation, and on the free list.
    fn vacated(&mut self, index: u32) {
        let place = &mut self.places[index as usize];
        place.generation = place.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Every live record with its index.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.places.iter().enumerate().filter_map(|(i, p)| p.value.as_ref().map(|v| (i as u32, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_place_does_not_answer_to_its_old_generation() {
        let mut s = Slab::default();
        let (i, g) = s.insert("a");
        assert_eq!(s.remove(i), Some("a"));
        let (j, h) = s.insert("b");
        assert_eq!(i, j);
        assert_ne!(g, h);
        assert_eq!(s.get(i, g), None);
        assert_eq!(s.get(j, h), Some(&"b"));
        assert_eq!(s.len(), 1);
        assert!(s.free(j));
        assert!(!s.free(j));
        assert_eq!((s.get(j, h), s.len()), (None, 0));
        assert_eq!(s.insert_with(|_| "c"), (j, h.wrapping_add(1)), "the place again, a new generation");
    }

    #[test]
    fn insert_with_builds_the_record_knowing_its_key() {
        let mut s = Slab::default();
        let (i, _) = s.insert((0, 0));
        s.remove(i);
        let key = s.insert_with(|key| key);
        assert_eq!(s.get(key.0, key.1), Some(&key), "reused place");
        let key = s.insert_with(|key| key);
        assert_eq!((key, s.get(key.0, key.1)), ((1, 0), Some(&(1, 0))), "new place");
        assert_eq!(s.len(), 2);
    }
}
